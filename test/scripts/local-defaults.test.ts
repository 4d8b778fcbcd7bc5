/** The admin commands `npm start` and `npm run admin -- list-orgs` print for pasting into another shell. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { localAdminCommand, shellWord } from '../../scripts/local-defaults.js';

describe('localAdminCommand', () => {
  it('adds only the local settings that differ from the defaults', () => {
    expect(localAdminCommand(['list-orgs'], {})).toBe('npm run admin -- list-orgs');
    expect(localAdminCommand(['list-orgs'], { DYNAMODB_LOCAL_PORT: '8000', TABLE_NAME: 'project-users-local', DYNAMODB_ENDPOINT: '' })).toBe(
      'npm run admin -- list-orgs',
    );
    expect(localAdminCommand(['list-orgs'], { DYNAMODB_LOCAL_PORT: '8001', TABLE_NAME: 'mine' })).toBe(
      'DYNAMODB_LOCAL_PORT=8001 TABLE_NAME=mine npm run admin -- list-orgs',
    );
    // An engine chosen with DYNAMODB_ENDPOINT is what the CLI uses, whatever the port says.
    expect(localAdminCommand(['list-orgs'], { DYNAMODB_ENDPOINT: 'http://localhost:9000', DYNAMODB_LOCAL_PORT: '8001' })).toBe(
      'DYNAMODB_ENDPOINT=http://localhost:9000 npm run admin -- list-orgs',
    );
  });

  it('quotes what the shell would otherwise split or expand, and reads back the same words', () => {
    const words = ['create-key', '--name', "Ann's key", '--table', 'a b', '$HOME', 'org_01', 'http://127.0.0.1:8000/x'];
    expect(words.map(shellWord)).toEqual(['create-key', '--name', `'Ann'\\''s key'`, '--table', "'a b'", "'$HOME'", 'org_01', 'http://127.0.0.1:8000/x']);
    const echoed = execFileSync('sh', ['-c', `printf '%s\\n' ${words.map(shellWord).join(' ')}`], { encoding: 'utf8' });
    expect(echoed.split('\n').slice(0, -1)).toEqual(words);
  });
});
