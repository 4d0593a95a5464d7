// P2's baselines: GET /api/tickets/:id with a Bearer token, the same SELECT as ticketd's
// worker, as a Node server. `node server.js fastify PORT`: Fastify 5 + pg (a named, prepared
// statement) + HS256 checked with node:crypto. `node server.js express PORT`: Express 4 + pg
// + jsonwebtoken, the common stack. Settings: PG* variables and JWT_SECRET; PG_POOL (default 4).
'use strict';
const crypto = require('node:crypto');
const { Pool } = require('pg');

const [mode, port] = [process.argv[2], Number(process.argv[3])];
const secret = process.env.JWT_SECRET;
const pool = new Pool({ max: Number(process.env.PG_POOL || 4) });
const SQL = 'SELECT id, subject, description, status, priority, requester_email, assignee_id,' +
  ' created_at, updated_at, deleted_at, version FROM tickets WHERE id = $1::uuid AND deleted_at IS NULL';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const key = Buffer.from(secret);

function verifyHs256(auth) {
  if (!auth || !auth.startsWith('Bearer ')) return null;
  const parts = auth.slice(7).split('.');
  if (parts.length !== 3) return null;
  const mac = crypto.createHmac('sha256', key).update(parts[0] + '.' + parts[1]).digest();
  const sig = Buffer.from(parts[2], 'base64url');
  if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) return null;
  const head = JSON.parse(Buffer.from(parts[0], 'base64url'));
  if (head.alg !== 'HS256') return null;
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  if (!claims.exp || claims.exp * 1000 < Date.now()) return null;
  return claims;
}

function ticket(r) {
  return { id: r.id, subject: r.subject, description: r.description, status: r.status,
    priority: r.priority, requesterEmail: r.requester_email, assigneeId: r.assignee_id,
    createdAt: r.created_at, updatedAt: r.updated_at, deletedAt: r.deleted_at, version: r.version };
}

async function find(id) {
  const res = await pool.query({ name: 'get_ticket', text: SQL, values: [id] });
  return res.rows[0];
}

if (mode === 'fastify') {
  const app = require('fastify')({ logger: false });
  app.get('/api/tickets/:id', async (req, reply) => {
    let claims = null;
    try { claims = verifyHs256(req.headers.authorization); } catch (e) { claims = null; }
    if (!claims) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Bad token.' } });
    if (!UUID.test(req.params.id)) return reply.code(404).send({ error: { code: 'not_found', message: 'No such ticket.' } });
    const row = await find(req.params.id);
    if (!row) return reply.code(404).send({ error: { code: 'not_found', message: 'No such ticket.' } });
    reply.header('ETag', `"${row.version}"`);
    return ticket(row);
  });
  app.listen({ port, host: '127.0.0.1' }).then(() => console.log(`fastify on ${port}`));
} else {
  const express = require('express');
  const jwt = require('jsonwebtoken');
  const app = express();
  app.get('/api/tickets/:id', async (req, res) => {
    let claims;
    try {
      claims = jwt.verify((req.headers.authorization || '').replace(/^Bearer /, ''), secret,
                          { algorithms: ['HS256'] });
    } catch (e) {
      return res.status(401).json({ error: { code: 'unauthorized', message: 'Bad token.' } });
    }
    if (!UUID.test(req.params.id)) return res.status(404).json({ error: { code: 'not_found', message: 'No such ticket.' } });
    const row = await find(req.params.id);
    if (!row) return res.status(404).json({ error: { code: 'not_found', message: 'No such ticket.' } });
    res.set('ETag', `"${row.version}"`).json(ticket(row));
  });
  app.listen(port, '127.0.0.1', () => console.log(`express on ${port}`));
}
