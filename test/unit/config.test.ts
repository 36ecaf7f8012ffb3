import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, parseConfig } from '../../functions/core/config.ts';
import { temporaryDirectory } from '../support/cli.ts';

describe('config', () => {
  it('has documented defaults', () => {
    expect(defaultConfig).toMatchObject({ businessTimezone: 'UTC', period: 'month', activityWindowDays: 90, npsTrailingWindowDays: 90 });
    expect(defaultConfig.publish).toEqual({ sink: 'outbox' });
    expect(defaultConfig.campaigns.serviceRecovery).toEqual({ enabled: true, priority: 100, cooldownDays: 30, maxDaysSinceResponse: 30 });
    expect(defaultConfig.campaigns.loyaltyUpgrade.segments).toEqual(['champions', 'loyal_customers']);
    expect(defaultConfig.campaigns.holdout).toEqual({ share: 0.1, salt: 'customer-marketing-pipeline' });
    expect(defaultConfig.campaigns).toMatchObject({ conversionWindowDays: 30, resultsTrailingDays: 90 });
    expect(defaultConfig.rfm.frequencyThresholds).toEqual([2, 3, 4, 6]);
  });

  it('names the key that is wrong', () => {
    expect(() => parseConfig({ activityWindowDays: 0 })).toThrow(/activityWindowDays: /);
    expect(() => parseConfig({ businessTimezone: 'Mars/Olympus' })).toThrow(/businessTimezone: is not a time zone/);
    expect(() => parseConfig({ period: 'fortnight' })).toThrow(/period: /);
    expect(() => parseConfig({ activityWindow: 30 })).toThrow(/unknown key "activityWindow"/);
    expect(() => parseConfig({ campaigns: { winBack: { priority: 0 } } })).toThrow(/campaigns\.winBack\.priority: /);
    expect(() => parseConfig({ campaigns: { loyaltyUpgrade: { segments: ['whales'] } } })).toThrow(/campaigns\.loyaltyUpgrade\.segments\.0: /);
    expect(() => parseConfig({ campaigns: { secondPurchase: { minDaysSinceFirstPurchase: 50 } } })).toThrow(/must not exceed/);
    expect(() => parseConfig({ publish: { sink: 'sqs', queueUrl: 'http://insecure.example' } })).toThrow(/publish\.queueUrl/);
    expect(() => parseConfig({ rfm: { frequencyThresholds: [2, 3, 3, 6] } })).toThrow(/rfm\.frequencyThresholds: must be strictly increasing/);
    expect(() => parseConfig({ rfm: { frequencyThresholds: [2, 3, 4] } })).toThrow(/rfm\.frequencyThresholds: /);
    expect(() => parseConfig({ rfm: { frequencyThresholds: [1, 3, 4, 6] } })).toThrow(/rfm\.frequencyThresholds\.0: /);
    expect(parseConfig({ rfm: { frequencyThresholds: [2, 4, 7, 10] } }).rfm.frequencyThresholds).toEqual([2, 4, 7, 10]);
    expect(() => parseConfig({ grossMarginRate: 0 })).toThrow(/grossMarginRate: /);
    expect(() => parseConfig({ grossMarginRate: 1.2 })).toThrow(/grossMarginRate: /);
    expect(() => parseConfig({ reportingCurrency: 'usd' })).toThrow(/reportingCurrency: must be an ISO 4217 currency code/);
    expect(defaultConfig.grossMarginRate).toBe(1);
    expect(defaultConfig.engine).toEqual({ memoryLimit: '3GB' });
    expect(parseConfig({ engine: { threads: 3 } }).engine).toEqual({ memoryLimit: '3GB', threads: 3 });
    expect(() => parseConfig({ engine: { threads: 0 } })).toThrow(/engine\.threads: /);
    expect(() => parseConfig({ engine: { threads: 1.5 } })).toThrow(/engine\.threads: /);
  });

  it('holds holdout shares to [0, 0.5], windows to a day or more and the salt to some text', () => {
    expect(() => parseConfig({ campaigns: { holdout: { share: 0.6 } } })).toThrow(/^config: campaigns\.holdout\.share: /);
    expect(() => parseConfig({ campaigns: { holdout: { share: -0.1 } } })).toThrow(/campaigns\.holdout\.share: /);
    expect(() => parseConfig({ campaigns: { holdout: { salt: '' } } })).toThrow(/campaigns\.holdout\.salt: must not be empty/);
    expect(() => parseConfig({ campaigns: { winBack: { holdoutShare: 0.75 } } })).toThrow(/campaigns\.winBack\.holdoutShare: /);
    expect(() => parseConfig({ campaigns: { conversionWindowDays: 0 } })).toThrow(/campaigns\.conversionWindowDays: /);
    expect(() => parseConfig({ campaigns: { resultsTrailingDays: -5 } })).toThrow(/campaigns\.resultsTrailingDays: /);
    const edges = parseConfig({ campaigns: { holdout: { share: 0.5, salt: 'spring-2027' }, churnRisk: { holdoutShare: 0 } } });
    expect(edges.campaigns.holdout).toEqual({ share: 0.5, salt: 'spring-2027' });
    expect(edges.campaigns.churnRisk.holdoutShare).toBe(0);
  });

  it('reads a JSON file and says which file is broken', async () => {
    const directory = await temporaryDirectory();
    try {
      const good = join(directory.path, 'good.json');
      const bad = join(directory.path, 'bad.json');
      await writeFile(good, JSON.stringify({ businessTimezone: 'Europe/Berlin', period: 'week' }));
      await writeFile(bad, '{ not json');
      expect(await loadConfig(good)).toEqual({ ...defaultConfig, businessTimezone: 'Europe/Berlin', period: 'week' });

      await expect(loadConfig(bad)).rejects.toThrow(/bad\.json is not valid JSON/);
      await expect(loadConfig(join(directory.path, 'missing.json'))).rejects.toThrow(/cannot read config/);
    } finally {
      await directory.cleanup();
    }
  });
});
