// The floor for bench:web's proxy figure: the least a Node.js reverse proxy does, in a process of its own as the
// gateway is: parse the request, send it on one kept-alive connection to the app, stream the answer back. No
// admission, no headers rewritten, nothing recorded. Usage: node --import tsx bench/bare-proxy.ts <app origin>;
// prints the port it listens on.
import http from "node:http";

const app = new URL(process.argv[2]!);
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((request, response) => {
  const upstream = http.request({ host: app.hostname, port: app.port, path: request.url, method: request.method, headers: request.headers, agent }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on("error", () => response.destroy());
  request.pipe(upstream);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(typeof address === "object" && address ? address.port : "");
});
