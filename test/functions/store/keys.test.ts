import { describe, expect, it } from 'vitest';
import { keys, prefixes, prefixRange } from '../../../functions/store/keys.js';

describe('prefixRange', () => {
  it('is the closed range from the prefix to its successor, holding every key under the prefix and nothing else', () => {
    expect(prefixRange('PU#')).toEqual({ from: 'PU#', to: 'PU$' });
    const { from, to } = prefixRange(prefixes.projectUser);
    const inRange = (sk: string) => sk >= from && sk <= to;
    // Neighbours in the same partition stay out; every project user's key is in.
    expect(inRange(keys.projectUser('prj_1', 'pu_01m84wv2hq3g4pfp22b1kztdjb').SK)).toBe(true);
    expect(inRange(`${prefixes.projectUser}\u{10FFFF}`)).toBe(true);
    for (const sk of [keys.project('prj_1').SK, keys.membership('prj_1', 'usr_1').SK, `${prefixes.audit}evt_1`, 'PU', 'PU"x', 'PU$x']) {
      expect(inRange(sk), sk).toBe(false);
    }
  });

  it('every prefix ends in # so that its successor (…$) is never a key of the layout', () => {
    for (const prefix of Object.values(prefixes)) {
      expect(prefix.endsWith('#')).toBe(true);
      expect(prefixRange(prefix).to).toBe(`${prefix.slice(0, -1)}$`);
    }
  });
});
