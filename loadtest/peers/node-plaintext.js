// node-plaintext.js: a minimal Node.js `http` peer for the plaintext
// comparison (loadtest/compare --scenarios peers). One process, one thread
// running JavaScript: the same event-loop model as threadlab's async mode.
// Usage: node node-plaintext.js PORT   (listens on 127.0.0.1 only)
'use strict';
const http = require('http');

const port = Number(process.argv[2] || 8090);
const body = Buffer.from('Hello, World!');

const server = http.createServer((req, res) => {
  if (req.url === '/plaintext') {
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'Content-Length': body.length,
      'Server': 'node',
    });
    res.end(body);
  } else {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  }
});
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1');
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)) &&
    setTimeout(() => process.exit(0), 500).unref());
}
