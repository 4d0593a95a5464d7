// main.js: the shell (top bar, navigation, connection state) and the hash router:
// #/login[?next=<route>], #/tickets, #/tickets/<id>, #/jobs, #/jobs/<id>.

import { session, onSessionEnd, onSessionStart, endSession, adoptSession, loginHash, loadConfig,
         loadMeta, onReach, watchReach } from './api.js';
import { h, mount, pill, toast } from './ui.js';
import * as live from './live.js';
import { loginView } from './login.js';
import { ticketsView, ticketsHash } from './tickets.js';
import { ticketView, restoreDraft } from './ticket.js';
import { jobsView } from './jobs.js';
import { jobView } from './job.js';
import * as users from './users.js';
import './bulk.js';   // says when one's own jobs end, wherever one is

const app = document.getElementById('app');
let current = null;       // the mounted view's cleanup
let shell = null;         // { main, nav links, live badge } while signed in

function buildShell() {
  const user = session.user;
  const links = {
    tickets: h('a.nav-link', { href: '#/tickets' }, 'Tickets'),
    jobs: h('a.nav-link', { href: '#/jobs' }, 'Jobs'),
  };
  const badge = h('span.live', { role: 'status' });
  const logout = h('button.btn.btn-ghost', { type: 'button', onclick: () => {
    endSession(null, { everywhere: true });
    toast('You are signed out.');
  } }, 'Log out');
  const main = h('main#main.main', { tabindex: '-1' });
  mount(app,
    h('header.topbar',
      h('a.brand', { href: '#/tickets', 'aria-label': 'ticketd home' },
        h('img', { src: 'favicon.svg', alt: '', width: '22', height: '22' }), 'ticketd'),
      h('nav.nav', { 'aria-label': 'Main' }, links.tickets, links.jobs),
      h('div.topbar-right', badge,
        h('span.user', h('span.user-email', user?.email || ''), pill(user?.role || '', `role-${user?.role}`)),
        logout)),
    main);
  // One badge for both links: the API first (without it nothing works, whatever the
  // socket says), then the live socket.
  let ws = 'down';
  let reach = 'up';
  const paint = () => {
    const [state, text, title] = reach === 'down'
      ? ['offline', 'Server unreachable', 'The ticketd server does not answer; changes cannot be saved until it is back.']
      : reach === 'trouble'
        ? ['trouble', 'Server trouble', 'The ticketd server answers, but cannot serve requests right now.']
        : ws === 'open' ? ['open', 'Live', 'Connected; live updates on.']
          : [ws, ws === 'connecting' ? 'Connecting…' : 'Reconnecting…', 'The API answers; live updates are reconnecting.'];
    badge.dataset.state = state;
    badge.textContent = text;
    badge.title = title;
  };
  const offs = [
    live.onState((s) => { ws = s; paint(); }),
    onReach((r) => { reach = r; paint(); }),
    watchReach(),
  ];
  shell = { main, links, off: () => offs.forEach((f) => f()) };
}

// Where the login page sends to once signed in: its ?next=, or Tickets.
function nextHash() {
  const [path, q] = location.hash.slice(1).split('?');
  const next = path === '/login' ? new URLSearchParams(q || '').get('next') : null;
  return next && next.startsWith('/') && !next.startsWith('/login') ? `#${next}` : '#/tickets';
}

function route() {
  const hash = location.hash || '#/tickets';
  const [path, search] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean);
  if (current) { current(); current = null; }

  if (!session.token || parts[0] === 'login') {
    if (session.token) { location.replace(nextHash()); return; }
    // A link or bookmark opened signed out: sign in, then go there.
    if (parts[0] !== 'login') { location.replace(loginHash(hash.slice(1))); return; }
    if (shell) { shell.off(); shell = null; }
    document.title = 'Sign in · ticketd';
    current = loginView(app);
    return;
  }
  if (!shell) {
    buildShell();
    live.start();
  }
  // "Tickets" goes back to the list as it was last shown (its filters, page, sort).
  shell.links.tickets.href = ticketsHash();
  for (const [name, a] of Object.entries(shell.links)) {
    if (name === parts[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const main = shell.main;
  if (parts[0] === 'jobs' && parts[1]) {
    current = jobView(main, parts[1]);
  } else if (parts[0] === 'jobs') {
    current = jobsView(main);
  } else if (parts[0] === 'tickets' && parts[1]) {
    current = ticketView(main, parts[1]);
  } else if (parts[0] === 'tickets') {
    current = ticketsView(main, new URLSearchParams(search || ''));
  } else {
    location.replace('#/tickets');
    return;
  }
  restoreDraft();
}

onSessionEnd(() => {
  live.stop();
  users.reset();
  if (shell) { shell.off(); shell = null; }
});

// Another tab signed in: a login page here follows it to where it was meant to go.
onSessionStart(() => { if (location.hash.startsWith('#/login')) route(); });

window.addEventListener('hashchange', route);
loadConfig()
  .then(loadMeta)
  .then(adoptSession)
  .then(() => { app.removeAttribute('aria-busy'); route(); })
  .catch(() => mount(app, h('p.fatal', 'ticketd cannot load its configuration. Is http-edge running?')));
