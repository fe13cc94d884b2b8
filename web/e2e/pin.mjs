// Prints the base64 SHA-256 of the server's leaf public key after verifying the server's
// certificate chain and name against the CA file, so Chromium can be told to accept that
// one key (--ignore-certificate-errors-spki-list) and still reject any other certificate.
// Chromium on Linux takes extra roots only from an NSS database (certutil and a private
// HOME); pinning the verified leaf avoids that. The CA's own key is deliberately not
// pinned: the flag matches any certificate the server presents, and a CA certificate is
// public.
//
//   node e2e/pin.mjs https://localhost:PORT ca.crt
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";

const [, , urlArg, caFile] = process.argv;
if (!urlArg || !caFile) {
  console.error("usage: node e2e/pin.mjs URL CA_FILE");
  process.exit(2);
}
const url = new URL(urlArg);
const caPem = readFileSync(caFile, "utf8");
new X509Certificate(caPem); // fail early on a file that is not a PEM certificate
const host = url.hostname.replace(/^\[(.*)\]$/, "$1");

const leaf = await new Promise((resolve, reject) => {
  const socket = tls.connect({
    host,
    port: Number(url.port || 443),
    // SNI must be a DNS name; for an IP the certificate is checked against its IP SANs.
    servername: net.isIP(host) ? undefined : host,
    ca: caPem,
    rejectUnauthorized: true,
    ALPNProtocols: ["http/1.1"],
    timeout: 15_000,
  });
  socket.once("secureConnect", () => {
    const cert = socket.getPeerX509Certificate();
    socket.end();
    if (cert) resolve(cert);
    else reject(new Error("the server presented no certificate"));
  });
  socket.once("timeout", () => socket.destroy(new Error("TLS handshake timed out")));
  socket.once("error", reject);
});
const der = leaf.publicKey.export({ type: "spki", format: "der" });
console.log(createHash("sha256").update(der).digest("base64"));
