/**
 * The artifact bucket: content-addressed objects under `sha256/<hex>` (src/adapters/aws/s3-artifact-store.ts).
 * Never public, encrypted, versioned, TLS only; old versions and abandoned uploads expire.
 */
import { prefix, settings } from './stage.js';

export const artifactBucket = new aws.s3.Bucket('ArtifactBucket', {
  bucket: $interpolate`${prefix}-artifacts-${aws.getCallerIdentityOutput().accountId}`,
  forceDestroy: settings.removal === 'remove',
});

export const artifactPublicAccess = new aws.s3.BucketPublicAccessBlock('ArtifactBucketPublicAccess', {
  bucket: artifactBucket.id,
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
});

export const artifactEncryption = new aws.s3.BucketServerSideEncryptionConfiguration(
  'ArtifactBucketEncryption',
  {
    bucket: artifactBucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
  },
);

export const artifactVersioning = new aws.s3.BucketVersioning('ArtifactBucketVersioning', {
  bucket: artifactBucket.id,
  versioningConfiguration: { status: 'Enabled' },
});

export const artifactLifecycle = new aws.s3.BucketLifecycleConfiguration(
  'ArtifactBucketLifecycle',
  {
    bucket: artifactBucket.id,
    rules: [
      {
        id: 'expire-noncurrent-versions',
        status: 'Enabled',
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: 30 },
      },
      {
        id: 'abort-incomplete-uploads',
        status: 'Enabled',
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ],
  },
  { dependsOn: [artifactVersioning] },
);

export const artifactPolicy = new aws.s3.BucketPolicy(
  'ArtifactBucketPolicy',
  {
    bucket: artifactBucket.id,
    policy: $jsonStringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [artifactBucket.arn, $interpolate`${artifactBucket.arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    }),
  },
  { dependsOn: [artifactPublicAccess] },
);

/** Objects the runtime reads and writes: content-addressed keys only. */
export const artifactObjectsArn = $interpolate`${artifactBucket.arn}/sha256/*`;
