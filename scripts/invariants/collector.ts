import { at, type Item, type RuleName, type Violation } from './types.js';

/** Where every rule group reports: violations in the order they were found. */
export interface Collector {
  readonly violations: Violation[];
  report(rule: RuleName, item: Item | string, detail: string): void;
}

export function collector(): Collector {
  const violations: Violation[] = [];
  return {
    violations,
    report: (rule, item, detail) => violations.push({ rule, item: typeof item === 'string' ? item : at(item), detail }),
  };
}
