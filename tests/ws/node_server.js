// Test server for zflow's WebSocket client on Node's `ws` package.
// Install: npm install --prefix tests/ws ws
// Usage: node node_server.js [--deflate] ; prints the port, serves until killed.
// Paths as tests/ws/server.py: /echo /close/CODE /frag /ping /big/N
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
    ws.close(parseInt(url.split('/')[2], 10), 'bye');
    return;
  }
  if (url === '/frag') {
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
