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
