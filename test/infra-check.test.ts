/**
 * The offline AWS check (`npm run infra:check`, infra/check/): the real app meets every rule, and each
 * rule catches a deliberately broken variant — from hand-made resource lists, and end to end by running
 * the app under Pulumi mocks with a transform that opens the sandbox's egress. When `.sst/platform` is
 * missing the first test installs it with `sst install` (npm registry; ~30-50 s).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensurePlatform, synthesize } from '../infra/check/check.js';
import type { Synthesis, SynthResource } from '../infra/check/resources.js';
import {
  bucketProtectionRule,
  checkResources,
  iamWildcardRule,
  sandboxEgressRule,
  sandboxTaskRoleRule,
  stateMachineRoleRule,
  stateMachineRule,
} from '../infra/check/rules.js';

const root = process.cwd();
let app: Synthesis;

beforeAll(async () => {
  await ensurePlatform(root);
  app = await synthesize(root, 'dev');
}, 240_000);

const clone = (resources: SynthResource[]) => structuredClone(resources);
const find = (resources: SynthResource[], type: string, name?: string) => {
  const found = resources.find((r) => r.type === type && (name === undefined || r.name === name));
  if (!found) throw new Error(`no ${type} ${name ?? ''}`);
  return found;
};

describe('infra check on the real app', () => {
  it('meets every rule', () => {
    // Act
    const violations = checkResources(app.resources);
    // Assess
    expect(violations).toEqual([]);
    expect(app.resources.filter((r) => r.custom).length).toBeGreaterThan(80);
  });

  it('deploys both workflows, the resolver nesting the rollback, and lets only the deploy steps run pipelines', () => {
    // Prepare
    const machines = app.resources.filter((r) => r.type === 'aws:sfn/stateMachine:StateMachine');
    const rollback = find(app.resources, 'aws:sfn/stateMachine:StateMachine', 'Rollback');
    const resolver = find(app.resources, 'aws:sfn/stateMachine:StateMachine', 'IssueResolver');
    const pipelineGrants = app.resources
      .filter((r) => r.type === 'aws:iam/rolePolicy:RolePolicy')
      .filter((r) => String(r.inputs.policy).includes('codepipeline:StartPipelineExecution'))
      .map((r) => r.name)
      .sort();
    // Act
    const nested = JSON.parse(String(resolver.inputs.definition)).States.RunRollback;
    // Assess
    expect(machines.map((m) => m.name).sort()).toEqual(['IssueResolver', 'Rollback']);
    expect(nested.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect(nested.Parameters.StateMachineArn).toBe(rollback.state.arn);
    expect(pipelineGrants).toEqual([
      'StepDeployStagingAccess',
      'StepRedeployAccess',
      'StepRollOutProductionAccess',
    ]);
    expect(
      String(find(app.resources, 'aws:iam/rolePolicy:RolePolicy', 'AlarmRouterAccess').inputs.policy),
    ).toContain(String(rollback.state.arn));
  });
});

describe('each rule fails on a broken variant', () => {
  it('catches a security group rule opening 0.0.0.0/0 egress from the sandbox', () => {
    // Prepare
    const resources = clone(app.resources);
    const group = find(resources, 'aws:ec2/securityGroup:SecurityGroup', 'SandboxSecurityGroup');
    resources.push({
      type: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
      name: 'SandboxToInternet',
      id: 'sandboxtointernet-id',
      custom: true,
      inputs: { securityGroupId: group.id, cidrIpv4: '0.0.0.0/0', ipProtocol: '-1' },
      state: {},
    });
    // Act
    const violations = checkResources(resources, [sandboxEgressRule]);
    // Assess
    expect(violations.map((v) => v.message)).toEqual([
      'egress to 0.0.0.0/0: the sandbox would reach the internet',
    ]);
  });

  it('catches a `*` IAM action', () => {
    // Prepare
    const resources = clone(app.resources);
    const policy = find(resources, 'aws:iam/rolePolicy:RolePolicy', 'StepCheckRequestAccess');
    const document = JSON.parse(String(policy.inputs.policy));
    document.Statement.push({
      Sid: 'Everything',
      Effect: 'Allow',
      Action: ['dynamodb:*'],
      Resource: ['arn:aws:dynamodb:::table/x'],
    });
    policy.inputs.policy = JSON.stringify(document);
    // Act
    const violations = checkResources(resources, [iamWildcardRule]);
    // Assess
    expect(violations).toHaveLength(1);
    expect(violations[0]?.message).toContain('wildcard action dynamodb:*');
  });

  it('catches a `*` resource for an action AWS lets you scope', () => {
    // Prepare
    const resources = clone(app.resources);
    const policy = find(resources, 'aws:iam/rolePolicy:RolePolicy', 'StepCheckRequestAccess');
    const document = JSON.parse(String(policy.inputs.policy));
    document.Statement.push({ Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' });
    policy.inputs.policy = JSON.stringify(document);
    // Act
    const violations = checkResources(resources, [iamWildcardRule]);
    // Assess
    expect(violations.map((v) => v.message)).toEqual([
      expect.stringContaining('resource "*" for s3:GetObject'),
    ]);
  });

  it('catches a bucket without versioning', () => {
    // Prepare
    const resources = clone(app.resources).filter(
      (r) => r.type !== 'aws:s3/bucketVersioning:BucketVersioning',
    );
    // Act
    const violations = checkResources(resources, [bucketProtectionRule]);
    // Assess
    expect(violations.map((v) => v.message)).toEqual(['versioning is not enabled']);
  });

  it('catches a state machine calling a function that does not exist', () => {
    // Prepare
    const resources = clone(app.resources);
    const machine = find(resources, 'aws:sfn/stateMachine:StateMachine', 'IssueResolver');
    const definition = JSON.parse(String(machine.inputs.definition));
    definition.States.CheckRequest.Resource = 'arn:aws:lambda:eu-west-1:123456789012:function:gone';
    machine.inputs.definition = JSON.stringify(definition);
    // Act
    const messages = checkResources(resources, [stateMachineRule]).map((v) => v.message);
    // Assess
    expect(messages).toContainEqual(
      expect.stringContaining(
        'state CheckRequest invokes arn:aws:lambda:eu-west-1:123456789012:function:gone, which is not a function of this app',
      ),
    );
  });

  it('catches a nested execution of a state machine the app does not have, and a missing rollback workflow', () => {
    // Prepare: the resolver's RunRollback names another machine; then the rollback machine is gone
    const resources = clone(app.resources);
    const machine = find(resources, 'aws:sfn/stateMachine:StateMachine', 'IssueResolver');
    const definition = JSON.parse(String(machine.inputs.definition));
    definition.States.RunRollback.Parameters.StateMachineArn =
      'arn:aws:states:eu-west-1:123456789012:stateMachine:elsewhere';
    machine.inputs.definition = JSON.stringify(definition);
    const withoutRollback = clone(app.resources).filter(
      (r) => !(r.type === 'aws:sfn/stateMachine:StateMachine' && r.name === 'Rollback'),
    );
    // Act
    const nested = checkResources(resources, [stateMachineRule]).map((v) => v.message);
    const missing = checkResources(withoutRollback, [stateMachineRule]).map((v) => v.message);
    // Assess
    expect(nested).toContainEqual(
      'state RunRollback starts arn:aws:states:eu-west-1:123456789012:stateMachine:elsewhere, which is not a state machine of this app',
    );
    expect(missing).toContainEqual('expected one state machine named …-rollback, found 0');
    expect(missing).toContainEqual(
      expect.stringMatching(/^state RunRollback starts .*, which is not a state machine/),
    );
  });

  it('catches a workflow role that may invoke more than its definition calls, or cannot start its nested workflow', () => {
    // Prepare: the rollback role may also invoke createPlan; the resolver role loses StartExecution
    const resources = clone(app.resources);
    const createPlan = resources.find(
      (r) => r.type === 'aws:lambda/function:Function' && String(r.inputs.name).endsWith('-StepCreatePlan'),
    );
    if (!createPlan) throw new Error('no createPlan function');
    const rollbackAccess = find(resources, 'aws:iam/rolePolicy:RolePolicy', 'RollbackAccess');
    const rollbackDocument = JSON.parse(String(rollbackAccess.inputs.policy));
    rollbackDocument.Statement[0].Resource.push(createPlan.state.arn);
    rollbackAccess.inputs.policy = JSON.stringify(rollbackDocument);
    const resolverAccess = find(resources, 'aws:iam/rolePolicy:RolePolicy', 'IssueResolverAccess');
    const resolverDocument = JSON.parse(String(resolverAccess.inputs.policy));
    resolverDocument.Statement = resolverDocument.Statement.filter(
      (statement: { Sid?: string }) => statement.Sid !== 'StartRollback',
    );
    resolverAccess.inputs.policy = JSON.stringify(resolverDocument);
    // Act
    const messages = checkResources(resources, [stateMachineRoleRule]).map((v) => v.message);
    // Assess
    expect(messages).toEqual([
      `its role may lambda:InvokeFunction on ${String(createPlan.state.arn)}, which its definition never calls`,
      expect.stringMatching(
        /^its role may not states:StartExecution on .*:stateMachine:gantry-dev-rollback, which its definition calls$/,
      ),
    ]);
  });

  it('lets the sandbox run role write only the named delivery record kinds', () => {
    // Prepare: the real role writes the merge queue and incidents; a variant adds the approvals kind
    const resources = clone(app.resources);
    const role = find(resources, 'aws:iam/role:Role', 'SandboxRunRole');
    const inline = role.inputs.inlinePolicies as { name: string; policy: string }[];
    const document = JSON.parse(String(inline[0]?.policy));
    const delivery = document.Statement.find((s: { Sid?: string }) => s.Sid === 'DeliveryRecords');
    delivery.Condition['ForAllValues:StringEquals']['dynamodb:LeadingKeys'].push('approval');
    (inline[0] as { policy: string }).policy = JSON.stringify(document);
    // Act
    const real = checkResources(app.resources, [sandboxTaskRoleRule]);
    const widened = checkResources(resources, [sandboxTaskRoleRule]).map((v) => v.message);
    // Assess
    expect(real).toEqual([]);
    expect(JSON.parse(JSON.stringify(delivery.Condition))).toMatchObject({
      'ForAllValues:StringEquals': {
        'dynamodb:LeadingKeys': [
          'merge-queue',
          'merge-queue-position',
          'merge-queue-lease',
          'incident',
          'approval',
        ],
      },
    });
    expect(widened).toEqual([
      expect.stringContaining('statement DeliveryRecords allows dynamodb:PutItem, dynamodb:UpdateItem'),
    ]);
  });

  it('catches a sandbox task role that may read the artifact bucket itself', () => {
    // Prepare: the task role gets s3:GetObject on the bucket's objects, beside its grant and EFS access
    const resources = clone(app.resources);
    const definition = find(resources, 'aws:ecs/taskDefinition:TaskDefinition');
    const role = resources.find(
      (r) => r.type === 'aws:iam/role:Role' && r.state.arn === definition.inputs.taskRoleArn,
    );
    if (!role) throw new Error('no sandbox task role');
    const inline = role.inputs.inlinePolicies as { name: string; policy: string }[];
    const document = JSON.parse(String(inline[0]?.policy));
    document.Statement.push({
      Sid: 'ReadArtifacts',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: ['arn:aws:s3:::gantry-dev-artifacts/*'],
    });
    (inline[0] as { policy: string }).policy = JSON.stringify(document);
    // Act
    const violations = checkResources(resources, [sandboxTaskRoleRule]);
    // Assess
    expect(violations.map((v) => v.message)).toEqual([
      expect.stringContaining('the sandbox task role may s3:GetObject (statement ReadArtifacts)'),
    ]);
  });

  it('catches a sandbox run role whose artifact or journal access is not keyed by the run', () => {
    // Prepare
    const resources = clone(app.resources);
    const role = find(resources, 'aws:iam/role:Role', 'SandboxRunRole');
    const inline = role.inputs.inlinePolicies as { name: string; policy: string }[];
    const document = JSON.parse(String(inline[0]?.policy));
    document.Statement.push(
      { Sid: 'AllRuns', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/runs/*'] },
      {
        Sid: 'AnyRow',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem'],
        Resource: ['arn:aws:dynamodb:eu-west-1:123456789012:table/events'],
      },
    );
    (inline[0] as { policy: string }).policy = JSON.stringify(document);
    // Act
    const messages = checkResources(resources, [sandboxTaskRoleRule]).map((v) => v.message);
    // Assess
    expect(messages).toEqual([
      expect.stringContaining('statement AllRuns grants S3 on arn:aws:s3:::b/runs/*'),
      expect.stringContaining('statement AnyRow allows dynamodb:PutItem without a dynamodb:LeadingKeys'),
    ]);
  });

  it('catches, end to end, a transform opening the sandbox group to 0.0.0.0/0', async () => {
    // Act
    const broken = await synthesize(root, 'dev', { injectOpenEgress: true });
    const violations = checkResources(broken.resources);
    // Assess
    expect(violations).toEqual([
      {
        rule: 'sandbox-egress-endpoints-only',
        resource: 'aws:ec2/securityGroup:SecurityGroup SandboxSecurityGroup',
        message: 'inline egress to 0.0.0.0/0: the sandbox would reach the internet',
      },
    ]);
  }, 120_000);
});
