import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';

/** Credentials for the local engines only: they accept any, and nothing real must ever reach them. */
const localCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalEngines {
  dynamo: DynamoDBClient;
  s3: S3Client;
  dynamoEndpoint: string;
  s3Endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts dynalite and s3rver on 127.0.0.1 with their data on disk under `dataDir`, and returns
 * real AWS SDK clients pointed at them.
 *
 * @example
 * const engines = await startLocalEngines('.gantry/data');
 * await engines.dynamo.send(new ListTablesCommand({}));
 * await engines.stop();
 */
export async function startLocalEngines(dataDir: string): Promise<LocalEngines> {
  await mkdir(join(dataDir, 'dynamodb'), { recursive: true });
  await mkdir(join(dataDir, 's3'), { recursive: true });

  const dynamoServer: Server = dynalite({
    path: join(dataDir, 'dynamodb'),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    dynamoServer.once('error', reject);
    dynamoServer.listen(0, '127.0.0.1', () => resolve());
  });
  const dynamoEndpoint = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;

  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dataDir, 's3') });
  const s3Address = await s3rver.run();
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;

  const dynamo = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: 'local',
    credentials: localCredentials,
  });
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: localCredentials,
  });

  return {
    dynamo,
    s3,
    dynamoEndpoint,
    s3Endpoint,
    async stop() {
      dynamo.destroy();
      s3.destroy();
      await s3rver.close();
      await new Promise<void>((resolve) => dynamoServer.close(() => resolve()));
    },
  };
}
