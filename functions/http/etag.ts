import { createHash } from 'node:crypto';
import { errors } from '../domain/errors.js';

/** Resources with a version use it; others hash their representation. */
export function etagOf(resource: { version?: number } | object): string {
  const version = (resource as { version?: unknown }).version;
  if (typeof version === 'number') return `"${version}"`;
  return `"${createHash('sha256').update(JSON.stringify(resource)).digest('base64url').slice(0, 16)}"`;
}

/** If-Match: absent or `*` always matches; otherwise one of its (weak or strong) tags must. */
export function ifMatchSatisfied(header: string | undefined, version: number): boolean {
  if (header === undefined || header.trim() === '*') return true;
  return header
    .split(',')
    .map((part) => part.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'))
    .some((v) => v === String(version));
}

/** A change under a stale If-Match is a 412, checked once the caller may know the resource exists. */
export function assertIfMatch(header: string | undefined, version: number): void {
  if (!ifMatchSatisfied(header, version)) throw errors.preconditionFailed();
}
