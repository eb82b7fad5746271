// Test server for zflow's WebSocket client on Node's `ws` package.
// Install: npm install --prefix tests/ws ws
// Usage: node node_server.js [--deflate] ; prints the port, serves until killed.
// Paths as tests/ws/server.py: /echo /close/CODE[/REASON] /mixed /frag /ping /big/N
'use strict';
const path = require('path');
const { WebSocketServer } = require(path.join(__dirname, 'node_modules', 'ws'));

const deflate = process.argv.includes('--deflate');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate,
                                  maxPayload: 0 });
wss.on('listening', () => console.log(wss.address().port));
wss.on('connection', (ws, req) => {
  const url = req.url;
  ws.on('error', () => {});
  if (url.startsWith('/close/')) {
    const parts = url.split('/');
    ws.close(parseInt(parts[2], 10), parts.length > 3 ? parts[3] : 'bye');
    return;
  }
  if (url === '/mixed') {
    ws.send(Buffer.from('{"b":1}'), { binary: true });
    ws.send('hello');
    ws.send(Buffer.from([0, 1, 2]), { binary: true });
    ws.send('{"t":1}');
  } else if (url === '/frag') {
    ws.send('frag', { fin: false });
    ws.send('ment', { fin: false });
    ws.send('ed', { fin: true });
  } else if (url === '/ping') {
    ws.once('pong', () => ws.send('pong-ok'));
    ws.ping('srv');
  } else if (url.startsWith('/big/')) {
    ws.send('x'.repeat(parseInt(url.split('/')[2], 10)));
  }
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
