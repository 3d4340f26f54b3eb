/**
 * The sandbox: an ECS cluster in the isolated network and the Fargate task that runs one workspace step
 * (containers/sandbox). SST's Task builds and pushes the image from the Dockerfile; the transforms below
 * replace what SST would grant by default with the minimum: a non-root user, a read-only root filesystem
 * with writable `/workspace` and `/tmp`, a task role that may only open its run's grant and mount the
 * run store, and an execution role that can only pull the image and write its logs.
 *
 * The task's data access comes from the run grant (functions/steps.ts `grantSandbox`): credentials of
 * the sandbox run role (infra/steps.ts), tagged with the run, encrypted under {@link grantKey}.
 */

import { artifactBucket } from './artifacts.js';
import { modelIds } from './bedrock.js';
import { pipelinesJson } from './delivery.js';
import { apiUrl } from './http.js';
import { isolatedSubnetIds, sandboxSecurityGroup, vpc, workspaceFileSystemSecurityGroup } from './network.js';
import { accountId, logRetention, policyDocument, prefix, region, type Statement } from './stage.js';
import { eventsTable, recordsTable, runsTable } from './tables.js';

export const SANDBOX_CONTAINER = 'sandbox';

export const cluster = new sst.aws.Cluster('SandboxCluster', {
  vpc: {
    id: vpc.id,
    securityGroups: [sandboxSecurityGroup.id],
    containerSubnets: isolatedSubnetIds,
    loadBalancerSubnets: isolatedSubnetIds,
  },
});

/**
 * The run workspaces. Each workspace step is its own task, so a run's clone must outlive the task that
 * made it: an encrypted EFS file system in the isolated subnets, reached through one access point that
 * maps every client to the runner's uid and roots it at /runs. The runner keeps one tar of each run's
 * workspace there (containers/sandbox/run-store.ts); the workspace itself lives on the task's storage.
 */
export const workspaceFileSystem = new aws.efs.FileSystem('WorkspaceFileSystem', {
  encrypted: true,
  performanceMode: 'generalPurpose',
  throughputMode: 'elastic',
  lifecyclePolicies: [{ transitionToIa: 'AFTER_7_DAYS' }],
  tags: { Name: `${prefix}-workspaces` },
});

export const workspaceMountTargets = isolatedSubnetIds.map(
  (subnetId, index) =>
    new aws.efs.MountTarget(`WorkspaceMountTarget${index}`, {
      fileSystemId: workspaceFileSystem.id,
      subnetId,
      securityGroups: [workspaceFileSystemSecurityGroup.id],
    }),
);

export const workspaceAccessPoint = new aws.efs.AccessPoint('WorkspaceAccessPoint', {
  fileSystemId: workspaceFileSystem.id,
  posixUser: { uid: 1000, gid: 1000 },
  rootDirectory: { path: '/runs', creationInfo: { ownerUid: 1000, ownerGid: 1000, permissions: '750' } },
});

/**
 * The key run grants are encrypted under. The grantSandbox function encrypts with the encryption context
 * `{ run: <runId> }`; the task decrypts with its own run's id, so a grant for another run does not open.
 */
export const grantKey = new aws.kms.Key('SandboxGrantKey', {
  description: `${prefix}: sandbox run grants (temporary credentials of one run)`,
  enableKeyRotation: true,
  deletionWindowInDays: 7,
});

/**
 * The task's own permissions: open a run grant and mount the run store. Nothing on the journal, the
 * artifacts or the models: those go through the run's credentials inside the grant.
 */
const taskStatements: Statement[] = [
  {
    Sid: 'OpenRunGrant',
    Effect: 'Allow',
    Action: ['kms:Decrypt'],
    Resource: [grantKey.arn],
    Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['run'] } },
  },
  {
    Sid: 'RunWorkspaces',
    Effect: 'Allow',
    Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
    Resource: [workspaceFileSystem.arn],
    Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': workspaceAccessPoint.arn } },
  },
];

const taskVolumes = [
  { name: 'workspace', containerPath: '/workspace' },
  { name: 'tmp', containerPath: '/tmp' },
  // The run store: one tar of each run's workspace, so the next step's task can restore it.
  { name: 'runs', containerPath: '/runs' },
];

export const sandboxTask = new sst.aws.Task('SandboxTask', {
  cluster,
  architecture: 'x86_64',
  cpu: '1 vCPU',
  memory: '4 GB',
  storage: '40 GB',
  containers: [
    {
      name: SANDBOX_CONTAINER,
      image: { context: '.', dockerfile: 'containers/sandbox/Dockerfile' },
      logging: { retention: logRetention },
      environment: {
        GANTRY_STAGE: $app.stage,
        GANTRY_EVENTS_TABLE: eventsTable.name,
        GANTRY_RUNS_TABLE: runsTable.name,
        GANTRY_RECORDS_TABLE: recordsTable.name,
        GANTRY_ARTIFACT_BUCKET: artifactBucket.bucket,
        GANTRY_MODEL_IDS: modelIds,
        GANTRY_APPROVAL_BASE_URL: apiUrl,
        GANTRY_WORKSPACES_DIR: '/workspace',
        GANTRY_RUN_STORE_DIR: '/runs',
        GANTRY_GRANT_KEY_ARN: grantKey.arn,
        // The merge queue (mergeChange) runs here and needs the delivery ports; nothing here deploys.
        GANTRY_PIPELINES: pipelinesJson,
        POWERTOOLS_SERVICE_NAME: 'gantry-sandbox',
        POWERTOOLS_METRICS_NAMESPACE: 'Gantry',
      },
    },
  ],
  transform: {
    taskRole: (args: aws.iam.RoleArgs) => {
      args.inlinePolicies = [{ name: 'sandbox', policy: policyDocument(taskStatements) }];
    },
    executionRole: (args: aws.iam.RoleArgs) => {
      // SST attaches AmazonECSTaskExecutionRolePolicy and an SSM read on `*`; the task needs neither.
      args.managedPolicyArns = [];
      args.inlinePolicies = [
        {
          name: 'pull-and-log',
          policy: policyDocument([
            {
              Sid: 'EcrLogin',
              Effect: 'Allow',
              Action: ['ecr:GetAuthorizationToken'],
              Resource: ['*'],
            },
            {
              Sid: 'PullImage',
              Effect: 'Allow',
              Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
              Resource: [$interpolate`arn:aws:ecr:${region}:${accountId}:repository/sst-asset`],
            },
            {
              Sid: 'WriteLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: [$interpolate`arn:aws:logs:${region}:${accountId}:log-group:/sst/cluster/*:*`],
            },
          ]),
        },
      ];
    },
    taskDefinition: (args: aws.ecs.TaskDefinitionArgs) => {
      args.family = `${prefix}-sandbox`;
      args.volumes = taskVolumes.map(({ name }) =>
        name === 'runs'
          ? {
              name,
              efsVolumeConfiguration: {
                fileSystemId: workspaceFileSystem.id,
                transitEncryption: 'ENABLED',
                authorizationConfig: { accessPointId: workspaceAccessPoint.id, iam: 'ENABLED' },
              },
            }
          : { name },
      );
      args.containerDefinitions = $output(args.containerDefinitions).apply((json) =>
        JSON.stringify(
          (JSON.parse(json) as Record<string, unknown>[]).map((container) => {
            const { portMappings: _ports, pseudoTerminal: _tty, ...rest } = container;
            return {
              ...rest,
              user: '1000:1000',
              readonlyRootFilesystem: true,
              privileged: false,
              mountPoints: taskVolumes.map(({ name, containerPath }) => ({
                sourceVolume: name,
                containerPath,
                readOnly: false,
              })),
            };
          }),
        ),
      );
    },
  },
});

/** What the workflow's `ecs:runTask.sync` states target. */
export const sandboxTarget = {
  cluster: cluster.nodes.cluster.arn,
  clusterName: cluster.nodes.cluster.name,
  taskDefinition: sandboxTask.taskDefinition,
  taskRoleArn: sandboxTask.nodes.taskRole.arn,
  executionRoleArn: sandboxTask.nodes.executionRole.arn,
  container: SANDBOX_CONTAINER,
  subnets: isolatedSubnetIds,
  securityGroups: [sandboxSecurityGroup.id],
};
