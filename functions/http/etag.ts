import { createHash } from 'node:crypto';
import { errors } from '../domain/errors.js';

/** Resources with a version use it; others hash their representation. */
export function etagOf(resource: { version?: number } | object): string {
  const version = (resource as { version?: unknown }).version;
  if (typeof version === 'number') return `"${version}"`;
  return `"${createHash('sha256').update(JSON.stringify(resource)).digest('base64url').slice(0, 16)}"`;
}

/**
 * If-Match: absent or `*` always matches; otherwise one of its (weak or strong) tags must match the
 * resource's current ETag: its version, or (`etagOf` of a resource without one) the tag itself.
 */
export function ifMatchSatisfied(header: string | undefined, current: number | string): boolean {
  if (header === undefined || header.trim() === '*') return true;
  const wanted = typeof current === 'number' ? String(current) : unquoted(current);
  return header
    .split(',')
    .map((part) => unquoted(part.trim().replace(/^W\//, '')))
    .some((v) => v === wanted);
}

const unquoted = (tag: string) => tag.replace(/^"(.*)"$/, '$1');

/** A change under a stale If-Match is a 412, checked once the caller may know the resource exists. */
export function assertIfMatch(header: string | undefined, current: number | string): void {
  if (!ifMatchSatisfied(header, current)) throw errors.preconditionFailed();
}
