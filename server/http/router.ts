/**
 * A tiny router: routes are path templates (`/api/shares/:id`) with one handler per method.
 * The dispatcher only matches; handlers do the work, errors go to respond.sendError.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FerryError } from '../../shared/errors.ts';
import { AllowError } from './respond.ts';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Decoded path parameters, still unvalidated: each handler parses them with a schema. */
  params: Record<string, string>;
  url: URL;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;
export type MethodHandlers = Partial<Record<'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', Handler>>;

interface Route {
  template: string;
  segments: string[];
  methods: MethodHandlers;
}

export class Router {
  readonly #routes: Route[] = [];

  add(template: string, methods: MethodHandlers): this {
    this.#routes.push({ template, segments: template.split('/').filter(Boolean), methods });
    return this;
  }

  /**
   * The handler for a request and its route's template, or a NOT_FOUND /
   * METHOD_NOT_ALLOWED error to answer with.
   */
  match(method: string, pathname: string): { handler: Handler; params: Record<string, string>; route: string } {
    const parts = pathname.split('/').filter(Boolean);
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      const handler = route.methods[method as keyof MethodHandlers];
      if (handler) return { handler, params, route: route.template };
      throw new AllowError(Object.keys(route.methods));
    }
    throw new FerryError('NOT_FOUND', 'There is nothing at this address.');
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  if (template.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const p = parts[i]!;
    if (t.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(p);
      } catch {
        return undefined;
      }
      params[t.slice(1)] = value;
    } else if (t !== p) {
      return undefined;
    }
  }
  return params;
}
