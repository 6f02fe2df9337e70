import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_CONFIG } from './detection-config';
import { endpointHammering, errorStorm, limitPressure, sustainedExcess, tokenSpread, type BandedMinute } from './rules';

const cfg = DEFAULT_DETECTION_CONFIG;
const series = (values: number[], upper = 100, centre = 60, envelope: number | null = null): BandedMinute[] =>
  values.map((requests, i) => ({ minute: i * 60_000, requests, centre, upper, envelope }));
const repeat = (n: number, v: number) => Array.from({ length: n }, () => v);

describe('sustainedExcess', () => {
  it('stays quiet inside the band', () => {
    expect(sustainedExcess(series(repeat(30, 90)), cfg.sustainedExcess, false)).toBeNull();
    expect(sustainedExcess([], cfg.sustainedExcess, false)).toBeNull();
  });

  it('never fires on a spike, however tall', () => {
    expect(sustainedExcess(series([...repeat(25, 60), ...repeat(5, 5000)]), cfg.sustainedExcess, false)).toBeNull();
  });

  it('fires when most of the window is above the band, with severity from observed / expected', () => {
    const finding = sustainedExcess(series([...repeat(6, 60), ...repeat(24, 400)]), cfg.sustainedExcess, false);
    expect(finding?.kind).toBe('SUSTAINED_EXCESS');
    expect(finding?.details).toMatchObject({ overMinutes: 24, windowMinutes: 30, excessRequests: 24 * 300 });
    expect(finding?.severity).toBe('HIGH'); // (6×60 + 24×400) / (30×60) = 5.5
  });

  it('needs enough excess volume, not just a share', () => {
    expect(sustainedExcess(series(repeat(30, 105)), cfg.sustainedExcess, false)).toBeNull(); // 150 excess < 300
    expect(sustainedExcess(series(repeat(30, 111)), cfg.sustainedExcess, false)?.severity).toBe('LOW');
  });

  it('ignores minutes under the absolute floor even above a tiny band', () => {
    expect(sustainedExcess(series(repeat(30, 15), 2, 1), cfg.sustainedExcess, false)).toBeNull();
  });

  it('hysteresis: an open flag holds at a share that would not open one, and resolves below closeShare', () => {
    const partly = series([...repeat(20, 60), ...repeat(10, 400)]);
    expect(sustainedExcess(partly, cfg.sustainedExcess, false)).toBeNull();
    expect(sustainedExcess(partly, cfg.sustainedExcess, true)?.kind).toBe('SUSTAINED_EXCESS');
    expect(sustainedExcess(series([...repeat(25, 60), ...repeat(5, 400)]), cfg.sustainedExcess, true)).toBeNull();
  });

  it('an announced burst inside its envelope does not count; beyond the envelope it does', () => {
    expect(sustainedExcess(series(repeat(30, 900), 100, 60, 1000), cfg.sustainedExcess, false)).toBeNull();
    const beyond = sustainedExcess(series(repeat(30, 3000), 100, 60, 1000), cfg.sustainedExcess, false);
    expect(beyond?.details).toMatchObject({ excessRequests: 30 * 2000, overMinutes: 30 });
  });

  it('reports minutes inside the envelope as such', () => {
    const finding = sustainedExcess(
      [...series(repeat(10, 900), 100, 60, 1000), ...series(repeat(20, 900), 100, 60, null)],
      cfg.sustainedExcess,
      false,
    );
    expect(finding?.details).toMatchObject({ minutesInsideBurstEnvelope: 10, overMinutes: 20 });
  });
});

describe('limitPressure', () => {
  const minutes = (n: number, limited: number) => Array.from({ length: n }, () => ({ requests: 100, limited }));

  it('flags an account persistently at its limit as an upgrade candidate', () => {
    const finding = limitPressure(minutes(30, 20), cfg.limitPressure, false);
    expect(finding).toMatchObject({ kind: 'LIMIT_PRESSURE', severity: 'LOW' });
  });

  it('ignores an account limited only now and then, or barely', () => {
    expect(limitPressure([...minutes(5, 20), ...minutes(25, 0)], cfg.limitPressure, false)).toBeNull();
    expect(limitPressure(minutes(30, 1), cfg.limitPressure, false)).toBeNull();
    expect(limitPressure([], cfg.limitPressure, false)).toBeNull();
  });

  it('holds an open flag at half the share', () => {
    const some = [...minutes(12, 20), ...minutes(18, 0)];
    expect(limitPressure(some, cfg.limitPressure, false)).toBeNull();
    expect(limitPressure(some, cfg.limitPressure, true)).not.toBeNull();
  });
});

describe('errorStorm', () => {
  it('flags 401/403 far above normal', () => {
    const finding = errorStorm({ requests: 3000, authFailures: 2700, normalRatio: 0.01 }, cfg.errorStorm, false);
    expect(finding).toMatchObject({ kind: 'ERROR_STORM', severity: 'HIGH' });
  });

  it('does not flag an account whose normal is already that high, or too few failures', () => {
    expect(errorStorm({ requests: 3000, authFailures: 1200, normalRatio: 0.35 }, cfg.errorStorm, false)).toBeNull();
    expect(errorStorm({ requests: 100, authFailures: 90, normalRatio: 0 }, cfg.errorStorm, false)).toBeNull();
    expect(errorStorm({ requests: 0, authFailures: 0, normalRatio: 0 }, cfg.errorStorm, false)).toBeNull();
  });

  it('holds an open flag at half the ratio', () => {
    const w = { requests: 3000, authFailures: 600, normalRatio: 0.01 };
    expect(errorStorm(w, cfg.errorStorm, false)).toBeNull();
    expect(errorStorm(w, cfg.errorStorm, true)?.severity).toBe('MEDIUM');
  });
});

describe('endpointHammering', () => {
  const shares = { openShare: 0.6, closeShare: 0.25 };
  const route = (perMinute: number[], normal: number, envelope: number | null = null) => ({
    route: 'POST /v1/licenses/validate',
    perMinute,
    normalPerMinute: normal,
    envelope,
  });

  it('flags a sensitive route far above its normal for most of the window', () => {
    const finding = endpointHammering([route(repeat(30, 300), 5)], cfg.endpointHammering, shares, false);
    expect(finding).toMatchObject({ kind: 'ENDPOINT_HAMMERING', severity: 'HIGH' });
    expect(finding?.details).toMatchObject({ route: 'POST /v1/licenses/validate', perMinute: 300 });
  });

  it('ignores a short burst, a busy but normal route, and an announced envelope', () => {
    expect(
      endpointHammering([route([...repeat(25, 5), ...repeat(5, 300)], 5)], cfg.endpointHammering, shares, false),
    ).toBeNull();
    expect(endpointHammering([route(repeat(30, 300), 200)], cfg.endpointHammering, shares, false)).toBeNull();
    expect(endpointHammering([route(repeat(30, 300), 5, 400)], cfg.endpointHammering, shares, false)).toBeNull();
    expect(endpointHammering([route([], 5)], cfg.endpointHammering, shares, false)).toBeNull();
  });

  it('respects the absolute minimum rate for quiet routes', () => {
    expect(endpointHammering([route(repeat(30, 8), 0.1)], cfg.endpointHammering, shares, false)).toBeNull();
  });
});

describe('tokenSpread', () => {
  it('flags one token suddenly used from many IPs, naming the worst', () => {
    const finding = tokenSpread(
      [
        { tokenId: 'a', ips: 40, normalIps: 2 },
        { tokenId: 'b', ips: 300, normalIps: 2 },
      ],
      cfg.tokenSpread,
      false,
    );
    expect(finding).toMatchObject({ kind: 'TOKEN_SPREAD', severity: 'HIGH', details: { tokenId: 'b' } });
  });

  it('does not flag a token that is normally spread wide, or a handful of IPs', () => {
    expect(tokenSpread([{ tokenId: 'a', ips: 400, normalIps: 300 }], cfg.tokenSpread, false)).toBeNull();
    expect(tokenSpread([{ tokenId: 'a', ips: 10, normalIps: 1 }], cfg.tokenSpread, false)).toBeNull();
  });

  it('holds an open flag at half the minimum', () => {
    expect(tokenSpread([{ tokenId: 'a', ips: 15, normalIps: 1 }], cfg.tokenSpread, true)).not.toBeNull();
  });
});
