import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Files of this process get names `<pid>-<n>.<ext>`; n counts across every spool of the process. */
let nextFile = 0;

/**
 * Where an embedded (chDB) insert's body waits as a file while ClickHouse reads it with `INSERT … FROM INFILE`.
 *
 * Why a file: chDB's in-memory raw insert (`rawInsert`, the body handed over as it is) costs about 3.6 ns a byte
 * before any parsing, measured on a Null table; read from a file the same body costs about a sixth of that. For the
 * ingest consumer's intake (about 335 bytes an event) that is some 2 µs an event, a tenth of the whole pipeline's
 * CPU on two cores (docs/ingest.md, seventh session). Writing the file is a copy into the page cache, and the file
 * is gone before the kernel would write it back.
 *
 * A process killed between writing a file and removing it leaves the file behind: a spool removes, when it is
 * created, the files of processes that no longer run. A file whose pid a later process got (a container's pid 1)
 * is overwritten and removed as that process's count reaches its name.
 */
export class InsertSpool {
  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true });
    for (const name of readdirSync(directory)) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) rmSync(path.join(directory, name), { force: true });
    }
  }

  /** Runs `read` on `body` written to a file of its own, and removes the file afterwards, whatever `read` did. */
  async withFile<T>(body: Buffer, extension: string, read: (file: string) => Promise<T>): Promise<T> {
    const file = path.join(this.directory, `${process.pid}-${nextFile++}.${extension}`);
    try {
      await writeFile(file, body);
      return await read(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Files in the spool now (none once every insert has finished). */
  files(): string[] {
    return readdirSync(this.directory);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
