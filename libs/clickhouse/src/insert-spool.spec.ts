import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InsertSpool } from './insert-spool';

describe('InsertSpool', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'ug-spool-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('hands over a file holding the body, and removes it once read', async () => {
    const spool = new InsertSpool(directory);
    const body = Buffer.from('{"a":1}\n{"a":2}\n');
    const seen = await spool.withFile(body, 'JSONEachRow', async (file) => {
      expect(path.dirname(file)).toBe(directory);
      expect(path.basename(file)).toMatch(new RegExp(`^${process.pid}-\\d+\\.JSONEachRow$`));
      expect(spool.files()).toEqual([path.basename(file)]);
      return readFile(file);
    });
    expect(seen.equals(body)).toBe(true);
    expect(spool.files()).toEqual([]);
  });

  it('removes the file when the read fails too, and passes the failure on', async () => {
    const spool = new InsertSpool(directory);
    await expect(
      spool.withFile(Buffer.from('x'), 'TabSeparated', () => Promise.reject(new Error('refused'))),
    ).rejects.toThrow('refused');
    expect(spool.files()).toEqual([]);
  });

  it('gives concurrent inserts files of their own', async () => {
    const spool = new InsertSpool(directory);
    const names = await Promise.all(
      [1, 2, 3].map((i) =>
        spool.withFile(Buffer.from(String(i)), 'TabSeparated', async (file) => {
          await new Promise((resolve) => setTimeout(resolve, 10));
          expect(readFileSync(file, 'latin1')).toBe(String(i));
          return path.basename(file);
        }),
      ),
    );
    expect(new Set(names).size).toBe(3);
    expect(spool.files()).toEqual([]);
  });

  it('removes, when created, what processes that no longer run left behind, and keeps what running ones write', () => {
    // A pid that ran and is gone: a child that has exited (and been reaped).
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    expect(gone).toBeGreaterThan(0);
    writeFileSync(path.join(directory, `${gone}-7.JSONEachRow`), 'left behind');
    writeFileSync(path.join(directory, 'stray.tmp'), 'not a spool name');
    writeFileSync(path.join(directory, `${process.pid}-999999.JSONEachRow`), 'in flight');
    const spool = new InsertSpool(directory);
    expect(spool.files()).toEqual([`${process.pid}-999999.JSONEachRow`]);
  });
});
