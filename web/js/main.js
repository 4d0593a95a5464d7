// main.js: the shell (top bar, navigation, connection state) and the hash router:
// #/login, #/tickets, #/tickets/<id>, #/jobs, #/jobs/<id>.

import { session, onSessionEnd, endSession, loadConfig, loadMeta } from './api.js';
import { h, mount, pill, toast } from './ui.js';
import * as live from './live.js';
import { loginView } from './login.js';
import { ticketsView } from './tickets.js';
import { ticketView } from './ticket.js';
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
  const badge = h('span.live', { title: 'Live updates' });
  const logout = h('button.btn.btn-ghost', { type: 'button', onclick: () => {
    endSession();
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
  const off = live.onState((s) => {
    badge.dataset.state = s;
    badge.textContent = s === 'open' ? 'Live' : s === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  });
  shell = { main, links, off };
}

function route() {
  const hash = location.hash || '#/tickets';
  const [path] = hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean);
  if (current) { current(); current = null; }

  if (!session.token || parts[0] === 'login') {
    if (session.token) { location.replace('#/tickets'); return; }
    if (shell) { shell.off(); shell = null; }
    document.title = 'Sign in · ticketd';
    current = loginView(app);
    return;
  }
  if (!shell) {
    buildShell();
    live.start();
  }
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
    current = ticketsView(main);
  } else {
    location.replace('#/tickets');
  }
}

onSessionEnd(() => {
  live.stop();
  users.reset();
  if (shell) { shell.off(); shell = null; }
});

window.addEventListener('hashchange', route);
loadConfig()
  .then(loadMeta)
  .then(() => { app.removeAttribute('aria-busy'); route(); })
  .catch(() => mount(app, h('p.fatal', 'ticketd cannot load its configuration. Is http-edge running?')));
