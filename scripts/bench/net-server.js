// The node:net twin of the demo server, for the benchmark: the same protocol on Node's own sockets.
'use strict';
const net = require('node:net');
const ANSWERS = Array.from({ length: 100 }, (_, i) => Buffer.from(String(i + 1)));
const server = net.createServer((sock) => {
  sock.write('Welcome');
  sock.on('data', (data) => {
    if (data.toString('latin1').trim() === 'exit') sock.end();
    else sock.write(ANSWERS[Math.floor(Math.random() * 100)]);
  });
  sock.on('error', () => sock.destroy());
});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
