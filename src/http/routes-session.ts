// /api/session: the web page's login. A session is a random id in an HttpOnly,
// SameSite=Strict cookie, and a CSRF token the page sends back on every write.
import type { FastifyInstance } from 'fastify';

import { sessionCookie } from './auth.js';
import { errorSchema } from './schemas.js';
import type { ConsoleContext } from './context.js';
import type { JsonBody } from './task-input.js';

const sessionSchema = {
  type: 'object',
  properties: {
    authRequired: { type: 'boolean', description: 'false: no credentials configured (loopback only)' },
    user: { type: 'string', nullable: true },
    csrfToken: { type: 'string', nullable: true, description: 'send it in X-CSRF-Token on writes' },
  },
};

export function registerSessionRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { authenticator } = context;

  app.get(
    '/api/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Who is logged in, and the CSRF token',
        security: [],
        response: { 200: sessionSchema },
      },
    },
    (request) => {
      const session = authenticator.fromCookie(request.headers.cookie);
      return Promise.resolve({
        authRequired: authenticator.auth.required,
        user: session?.who ?? null,
        csrfToken: session?.csrf ?? null,
      });
    },
  );

  app.post(
    '/api/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Log in (sets the session cookie)',
        security: [],
        body: {
          type: 'object',
          properties: { token: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' } },
        },
        response: { 200: sessionSchema, 401: errorSchema },
      },
    },
    async (request, reply) => {
      const body = (request.body as JsonBody | undefined)?.value;
      const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      const session = authenticator.login(fields);
      if (session === null) {
        context.log.warn(
          { ip: request.ip, username: typeof fields.username === 'string' ? fields.username : undefined },
          'console: login refused',
        );
        return reply.code(401).send({ error: 'wrong token, user name or password' });
      }
      context.log.info({ who: session.who, ip: request.ip }, 'console: logged in');
      void reply.header('Set-Cookie', sessionCookie(session.id, request.protocol === 'https'));
      return { authRequired: authenticator.auth.required, user: session.who, csrfToken: session.csrf };
    },
  );

  app.delete(
    '/api/session',
    { schema: { tags: ['session'], summary: 'Log out', security: [] } },
    async (request, reply) => {
      authenticator.logout(request.headers.cookie);
      void reply.header('Set-Cookie', sessionCookie('', request.protocol === 'https'));
      return reply.code(204).send();
    },
  );
}
