// ticketform.js: a ticket's fields as a form: the controls with their labels (the required
// ones marked), what the form holds, whether that differs from what it opened with, and
// the API's field errors by each field, said the way a user expects ("Subject is
// required", not the contract's "must be 1 to 200 characters" for an empty subject).

import { vocab, ApiError } from './api.js';
import { h, select, errorText } from './ui.js';
import * as users from './users.js';
import { cap } from './describe.js';

export const TICKET_FIELDS = ['subject', 'description', 'status', 'priority', 'requesterEmail', 'assigneeId'];
export const LABELS = { subject: 'Subject', description: 'Description', status: 'Status', priority: 'Priority',
  requesterEmail: 'Requester e-mail', assigneeId: 'Assignee' };
// What a new ticket must have (the contract's TicketCreate); an edit may not empty them.
const REQUIRED = new Set(['subject', 'requesterEmail']);
const MAX = () => ({ subject: vocab.limits.subjectMax, description: vocab.limits.descriptionMax,
  requesterEmail: vocab.limits.emailMax });

// The form and the API spell "nothing" differently ('' and null): compare them as one.
export const norm = (v) => (v == null ? '' : String(v));

// A field's error in words: the API says what rule failed; the value says why.
export function fieldMessage(name, value, apiMessage) {
  const label = LABELS[name] || name;
  const v = norm(value);
  const max = MAX()[name];
  if (REQUIRED.has(name) && v.trim() === '') return `${label} is required`;
  if (max && v.length > max) return `${label} must be at most ${max.toLocaleString('en-US')} characters`;
  if (name === 'requesterEmail') return 'Enter an e-mail address, like name@example.com';
  return `${label} ${apiMessage}`;
}

// The form for ticket t (null: a new one). Returns { nodes, fields, values(), set(),
// dirty(), showErrors(e) }.
export function ticketForm(t) {
  const fields = {};
  const errors = {};
  // control: what the field shows; input: what takes the id and the error (the picker's
  // text box, for the assignee).
  const field = (name, control, input = control) => {
    input.id = `tf-${name}`;
    input.name = name;
    errors[name] = h('p.field-error', { id: `tf-${name}-error`, hidden: true });
    input.setAttribute('aria-describedby', `tf-${name}-error`);
    if (REQUIRED.has(name)) input.setAttribute('aria-required', 'true');
    fields[name] = input;
    return h('div.field', h('label', { for: input.id }, LABELS[name],
      REQUIRED.has(name) ? h('span.required-mark', { 'aria-hidden': 'true', title: 'required' }, ' *') : null),
    control, errors[name]);
  };
  const assignee = users.assigneePicker({ id: 'tf-assigneeId', value: t?.assigneeId ?? null });
  const nodes = [
    h('p.hint', h('span.required-mark', '*'), ' marks a required field.'),
    field('subject', h('input.input', { type: 'text', value: t?.subject || '', maxlength: String(vocab.limits.subjectMax) })),
    field('description', h('textarea.input', { rows: '4' }, t?.description || '')),
    h('div.field-row',
      field('status', select(null, vocab.ticketStatuses.map((s) => [s, cap(s)]), t?.status || vocab.defaults.ticketStatus)),
      field('priority', select(null, vocab.ticketPriorities.map((s) => [s, cap(s)]), t?.priority || vocab.defaults.ticketPriority))),
    field('requesterEmail', h('input.input', { type: 'email', value: t?.requesterEmail || '' })),
    field('assigneeId', assignee, assignee.input),
  ];

  const values = () => ({
    subject: fields.subject.value,
    description: fields.description.value,
    status: fields.status.value,
    priority: fields.priority.value,
    requesterEmail: fields.requesterEmail.value.trim(),
    assigneeId: assignee.value ?? null,
  });
  const pristine = values();

  function set(name, v) {
    if (name === 'assigneeId') assignee.set(v ?? null, true);
    else if (fields[name]) fields[name].value = v ?? '';
  }

  // Shows e's field errors by their fields; returns the first control in error (null if
  // none) and the text of what has no field here (null if nothing).
  function showErrors(e) {
    for (const el of Object.values(errors)) { el.hidden = true; el.textContent = ''; }
    for (const f of Object.values(fields)) f.removeAttribute('aria-invalid');
    if (!e) return { first: null, rest: null };
    const fe = e instanceof ApiError ? e.fieldErrors() : {};
    const now = values();
    let first = null;
    for (const [name, msg] of Object.entries(fe)) {
      if (!errors[name]) continue;
      errors[name].textContent = fieldMessage(name, now[name], msg);
      errors[name].hidden = false;
      fields[name].setAttribute('aria-invalid', 'true');
      first ||= fields[name];
    }
    const unplaced = Object.keys(fe).filter((k) => !errors[k]);
    const rest = unplaced.length ? unplaced.map((k) => `${k}: ${fe[k]}`).join('; ') : first ? null : errorText(e);
    return { first, rest };
  }

  return {
    nodes,
    fields,
    assignee,
    values,
    set,
    dirty: () => TICKET_FIELDS.some((k) => norm(values()[k]) !== norm(pristine[k])),
    showErrors,
  };
}
