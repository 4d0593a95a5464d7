// ws.js: a WebSocket to progress-hub that reconnects by itself: exponential backoff with
// full jitter, capped, reset once a connection has stayed up.

const BASE_MS = 500;
const CAP_MS = 15000;
const STABLE_MS = 5000;   // a connection that lived this long resets the backoff

export class LiveSocket {
  // onEvent({event, data}); onState('connecting' | 'open' | 'down').
  constructor(url, token, { onEvent, onState }) {
    // The token goes in the first frame, not the URL: URLs end up in logs and consoles.
    this.url = url;
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.stopped = false;
    this.openedAt = 0;
    this.state = 'down';
    this.connect();
  }

  setState(s) {
    if (s === this.state) return;
    this.state = s;
    this.onState?.(s);
  }

  connect() {
    if (this.stopped) return;
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ token: this.token }));
      this.openedAt = Date.now();
      this.setState('open');
    };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg && typeof msg.event === 'string' && msg.data) this.onEvent?.(msg);
    };
    ws.onerror = () => {};   // onclose follows and decides
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.openedAt && Date.now() - this.openedAt >= STABLE_MS) this.attempt = 0;
      this.openedAt = 0;
      this.setState('down');
      this.retry();
    };
  }

  retry() {
    if (this.stopped) return;
    const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    const delay = Math.max(200, Math.random() * ceiling);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close();
    }
    this.setState('down');
  }
}
