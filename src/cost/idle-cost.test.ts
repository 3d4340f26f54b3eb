import { describe, expect, it } from 'vitest';
import { loadAwsPrices } from './aws-prices.js';
import { testPrices } from './fixtures.test-support.js';
import { idleMonthlyCost } from './idle-cost.js';

describe('idleMonthlyCost', () => {
  it('prices a stage with no runs: endpoints by the hour in each zone, alarms, dashboard, image', () => {
    // Act
    const idle = idleMonthlyCost(testPrices, { interfaceEndpoints: 4, availabilityZones: 3, alarms: 5 });

    // Assess
    const cost = (name: string) => idle.items.find((i) => i.item === name)?.cost;
    expect(cost('VPC interface endpoints')).toBeCloseTo(4 * 3 * 730 * 0.01, 10);
    expect(cost('CloudWatch alarms')).toBeCloseTo(0.5, 12);
    expect(cost('CloudWatch dashboards')).toBe(3);
    expect(cost('ECR sandbox image')).toBeCloseTo(0.05, 12);
    expect(cost('KMS keys')).toBe(1);
    expect(idle.total).toBeCloseTo(87.6 + 0.5 + 3 + 0.05 + 1, 10);
  });

  it('equals the sum of its items and lists the services that cost nothing idle', async () => {
    // Prepare
    const prices = await loadAwsPrices();

    // Act
    const idle = idleMonthlyCost(prices);

    // Assess
    expect(idle.total).toBe(idle.items.reduce((sum, i) => sum + i.cost, 0));
    expect(idle.total).toBeCloseTo(106.55, 10);
    const free = idle.items.filter((i) => i.cost === 0).map((i) => i.item);
    expect(free).toEqual(
      expect.arrayContaining(['Step Functions', 'Lambda', 'Fargate', 'EventBridge', 'DynamoDB storage']),
    );
    const endpoints = idle.items.find((i) => i.item === 'VPC interface endpoints');
    expect(endpoints?.cost).toBeGreaterThan(idle.total * 0.9);
    expect(idle.settings).toMatchObject({
      interfaceEndpoints: 7,
      availabilityZones: 2,
      logRetentionDays: 30,
    });
  });

  it('charges data kept from past runs: logs, tables with their backups, artifacts', () => {
    // Act
    const idle = idleMonthlyCost(testPrices, { storedLogsGb: 10, storedTablesGb: 2, storedArtifactsGb: 50 });

    // Assess
    const cost = (name: string) => idle.items.find((i) => i.item === name)?.cost;
    expect(cost('CloudWatch Logs storage')).toBeCloseTo(0.3, 12);
    expect(cost('DynamoDB storage')).toBeCloseTo(0.5, 12);
    expect(cost('DynamoDB point-in-time recovery')).toBeCloseTo(0.4, 12);
    expect(cost('S3 artifact storage')).toBeCloseTo(1, 12);
  });
});
