// login.js: the sign-in page; once signed in, the router goes where ?next= says.

import { api, session, ApiError } from './api.js';
import { h, mount, errorText } from './ui.js';

export function loginView(app) {
  const flash = session.flash();
  const email = h('input#login-email.input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input#login-password.input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p.form-error', { role: 'alert', hidden: !flash }, flash || '');
  const submit = h('button.btn.primary.btn-block', { type: 'submit' }, 'Sign in');
  const form = h('form.login-card', { novalidate: true },
    h('div.login-brand', h('img', { src: 'favicon.svg', alt: '', width: '32', height: '32' }), h('span', 'ticketd')),
    h('h1', 'Sign in'),
    h('p.muted', 'Support tickets and bulk operations.'),
    error,
    h('div.field', h('label', { for: 'login-email' }, 'E-mail'), email),
    h('div.field', h('label', { for: 'login-password' }, 'Password'), password),
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!email.value || !password.value) {
      error.textContent = 'Enter your e-mail and password.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const res = await api('POST', '/api/auth/login', { email: email.value.trim(), password: password.value });
      session.set(res.token, res.user);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401
        ? 'Wrong e-mail or password.' : errorText(e);
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = 'Sign in';
      password.select();
    }
  });
  mount(app, h('main.login-page', form));
  email.focus();
  return () => {};
}
