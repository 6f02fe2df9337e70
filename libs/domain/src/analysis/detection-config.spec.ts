import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_CONFIG, parseDetectionConfig } from './detection-config';

describe('detection config', () => {
  it('fills every default from an empty object or null', () => {
    expect(parseDetectionConfig({})).toEqual(DEFAULT_DETECTION_CONFIG);
    expect(parseDetectionConfig(null)).toEqual(DEFAULT_DETECTION_CONFIG);
    expect(DEFAULT_DETECTION_CONFIG.sustainedExcess.windowMinutes).toBe(30);
  });

  it('merges a partial section with the defaults of the rest', () => {
    const config = parseDetectionConfig({ sustainedExcess: { floorPerMinute: 5 } });
    expect(config.sustainedExcess.floorPerMinute).toBe(5);
    expect(config.sustainedExcess.openShare).toBe(DEFAULT_DETECTION_CONFIG.sustainedExcess.openShare);
    expect(config.baseline).toEqual(DEFAULT_DETECTION_CONFIG.baseline);
  });

  it('rejects unknown keys and bad values, naming them', () => {
    expect(() => parseDetectionConfig({ sustained: {} })).toThrow(/sustained/);
    expect(() => parseDetectionConfig({ sustainedExcess: { openShare: 2 } })).toThrow(/sustainedExcess\.openShare/);
  });
});
