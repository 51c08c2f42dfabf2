/**
 * HTTP header names both sides use, without the API's schemas: the service worker imports
 * these and must not bundle zod (shared/api.ts re-exports them).
 */

/** Header that carries a download ticket on GET /api/shares/:id/files/:index. */
export const TICKET_HEADER = 'Ferry-Ticket';
