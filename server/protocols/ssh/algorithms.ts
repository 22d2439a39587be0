// Which SSH transport algorithms Gatehouse offers, most preferred first. By default only modern ones (no
// SHA-1, no CBC, no DSA); a target may opt in to the legacy set for old network devices and appliances.
import type { Algorithms } from "ssh2";

export const modernAlgorithms = {
  kex: [
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
  ],
  cipher: ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"],
  serverHostKey: ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256"],
  hmac: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512"],
} satisfies Algorithms;

export const legacyAlgorithms = {
  kex: [...modernAlgorithms.kex, "diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"],
  cipher: [...modernAlgorithms.cipher, "aes256-cbc", "aes192-cbc", "aes128-cbc", "3des-cbc"],
  serverHostKey: [...modernAlgorithms.serverHostKey, "ssh-rsa", "ssh-dss"],
  hmac: [...modernAlgorithms.hmac, "hmac-sha1-etm@openssh.com", "hmac-sha1", "hmac-md5"],
} satisfies Algorithms;
