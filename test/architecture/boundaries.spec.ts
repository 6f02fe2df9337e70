import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layout rules of STYLE.md that a linter cannot see across files: apps never import other apps (the control
 * plane, a composition root, may import their feature modules), and only libs/config reads process.env.
 */
const root = path.resolve(__dirname, '../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'generated' || entry === 'web') continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (full.endsWith('.ts') && !full.endsWith('.spec.ts')) out.push(full);
  }
  return out;
}

const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);

const appOf = (file: string) => {
  const rel = path.relative(path.join(root, 'apps'), file);
  return rel.startsWith('..') ? undefined : rel.split(path.sep)[0];
};

describe('code boundaries', () => {
  it('apps import no other app (except the control plane importing feature modules and their HTTP set-up)', () => {
    const violations: string[] = [];
    for (const file of sources(path.join(root, 'apps'))) {
      const app = appOf(file)!;
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = appOf(path.resolve(path.dirname(file), spec));
        if (target === undefined || target === app) continue;
        const featureModule = /\/src\/[a-z-]+\.(module|http)$/.test(spec);
        if (app === 'control-plane' && featureModule) continue;
        violations.push(`${path.relative(root, file)} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('reads process.env only in libs/config', () => {
    const offenders = [...sources(path.join(root, 'apps')), ...sources(path.join(root, 'libs'))]
      .filter((file) => !file.includes(`${path.sep}libs${path.sep}config${path.sep}`))
      .filter((file) => !file.includes(`${path.sep}libs${path.sep}testing${path.sep}`))
      .filter((file) => /process\.env\b/.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(root, file));
    expect(offenders).toEqual([]);
  });

  it('finds the files it checks (guards against a broken walk)', () => {
    expect(sources(path.join(root, 'apps')).length).toBeGreaterThan(5);
  });
});
