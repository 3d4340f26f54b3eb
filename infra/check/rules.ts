/**
 * The platform's infrastructure policy, as named rules over the resources the app registers. Each rule
 * returns its violations; `checkResources` runs them all. They read plain resource lists, so the tests
 * can feed them hand-made broken variants as well as the real app's synthesis.
 */
import validator from 'asl-validator';
import type { StateMachineDefinition } from '../../src/workflows/asl.js';
import {
  type LambdaStep,
  lambdaSteps,
  START_EXECUTION_SYNC,
  type StepResources,
  taskSteps,
} from '../../src/workflows/issue-resolver.js';
import { SANDBOX_WRITABLE_RECORD_KINDS } from '../record-kinds.js';
import type { SynthResource } from './resources.js';

export interface Violation {
  rule: string;
  resource: string;
  message: string;
}

export interface Rule {
  id: string;
  description: string;
  check: (resources: SynthResource[]) => Violation[];
}

/**
 * Actions AWS offers no resource-level permission for, so a statement granting them must name `*`.
 * Anything else on `*` is a violation.
 */
export const STAR_RESOURCE_ALLOWLIST: readonly string[] = [
  // X-Ray writes from Lambda and Step Functions tracing.
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // ECR registry login before an image pull (the pull itself is scoped to the repository).
  'ecr:GetAuthorizationToken',
  // Step Functions execution logging goes through CloudWatch Logs deliveries.
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

/** AWS managed policies a role may carry. None: every grant is an inline statement this check reads. */
export const MANAGED_POLICY_ALLOWLIST: readonly string[] = [];

const SECRET_SIG = '4dabf18193072939515e22adb298388d';

/** Pulumi marks secret inputs with a signature object; the rules read the value inside. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (SECRET_SIG in record) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, unwrapSecrets(inner)]));
  }
  return value;
}

const label = (r: SynthResource) => `${r.type} ${r.name}`;
const ofType = (resources: SynthResource[], ...types: string[]) =>
  resources.filter((r) => types.includes(r.type));
const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const refersTo = (value: unknown, target: SynthResource) =>
  value === target.id ||
  value === target.state.name ||
  value === target.state.arn ||
  value === target.state.bucket;

/** State machine definitions, parsed. */
function definitions(resources: SynthResource[]) {
  return ofType(resources, 'aws:sfn/stateMachine:StateMachine').map((machine) => {
    const raw = machine.inputs.definition;
    let definition: StateMachineDefinition | undefined;
    try {
      definition = typeof raw === 'string' ? (JSON.parse(raw) as StateMachineDefinition) : undefined;
    } catch {
      definition = undefined;
    }
    return { machine, definition };
  });
}

type EcsParameters = {
  Cluster?: string;
  TaskDefinition?: string;
  NetworkConfiguration?: { AwsvpcConfiguration?: { Subnets?: string[]; SecurityGroups?: string[] } };
  Overrides?: { ContainerOverrides?: { Name?: string }[] };
};

/** The subnets and security groups the workflows run sandbox tasks in, plus groups named as the sandbox's. */
export function sandboxNetwork(resources: SynthResource[]) {
  const subnets = new Set<string>();
  const groups = new Set<string>();
  for (const { definition } of definitions(resources)) {
    for (const state of Object.values(definition?.States ?? {})) {
      if (state.Type !== 'Task' || !state.Resource.startsWith('arn:aws:states:::ecs:runTask')) continue;
      const config = (state.Parameters as EcsParameters).NetworkConfiguration?.AwsvpcConfiguration;
      for (const subnet of config?.Subnets ?? []) subnets.add(subnet);
      for (const group of config?.SecurityGroups ?? []) groups.add(group);
    }
  }
  for (const group of ofType(resources, 'aws:ec2/securityGroup:SecurityGroup')) {
    if (/sandbox/i.test(group.name)) groups.add(group.id);
  }
  return { subnets, groups };
}

const OPEN_CIDRS = ['0.0.0.0/0', '::/0'];

/**
 * HTTPS to endpoints and prefix lists; NFS (2049) only to a security group (the run workspaces' EFS
 * mount targets), never to a prefix list or a CIDR.
 */
function allowedSandboxPort(rule: SynthResource): boolean {
  const { fromPort, toPort } = rule.inputs;
  if (fromPort === 443 && toPort === 443) return true;
  return fromPort === 2049 && toPort === 2049 && typeof rule.inputs.referencedSecurityGroupId === 'string';
}

export const sandboxEgressRule: Rule = {
  id: 'sandbox-egress-endpoints-only',
  description:
    'The sandbox security group has no egress to 0.0.0.0/0 or ::/0, nor to any CIDR: only HTTPS to endpoint groups and prefix lists',
  check(resources) {
    const { groups } = sandboxNetwork(resources);
    const violations: Violation[] = [];
    const fail = (r: SynthResource, message: string) =>
      violations.push({ rule: this.id, resource: label(r), message });
    for (const group of ofType(resources, 'aws:ec2/securityGroup:SecurityGroup')) {
      if (!groups.has(group.id)) continue;
      for (const egress of list(group.inputs.egress as Record<string, unknown>[] | undefined)) {
        const cidrs = [...list(egress.cidrBlocks as string[]), ...list(egress.ipv6CidrBlocks as string[])];
        const open = cidrs.filter((cidr) => OPEN_CIDRS.includes(cidr));
        if (open.length > 0)
          fail(group, `inline egress to ${open.join(', ')}: the sandbox would reach the internet`);
        else if (cidrs.length > 0)
          fail(
            group,
            `inline egress to ${cidrs.join(', ')}: sandbox egress goes to endpoint groups or prefix lists only`,
          );
      }
    }
    for (const rule of ofType(resources, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')) {
      if (!groups.has(String(rule.inputs.securityGroupId))) continue;
      const cidr = rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6;
      if (typeof cidr === 'string') {
        fail(
          rule,
          OPEN_CIDRS.includes(cidr)
            ? `egress to ${cidr}: the sandbox would reach the internet`
            : `egress to the CIDR ${cidr}: only endpoint groups and prefix lists`,
        );
      } else if (rule.inputs.ipProtocol !== 'tcp' || !allowedSandboxPort(rule)) {
        fail(
          rule,
          `egress on ${String(rule.inputs.ipProtocol)} ${String(rule.inputs.fromPort)}-${String(rule.inputs.toPort)}: only tcp 443 to endpoints, or tcp 2049 to the workspace file system's group`,
        );
      }
    }
    for (const rule of ofType(resources, 'aws:ec2/securityGroupRule:SecurityGroupRule')) {
      if (rule.inputs.type !== 'egress' || !groups.has(String(rule.inputs.securityGroupId))) continue;
      const cidrs = [
        ...list(rule.inputs.cidrBlocks as string[]),
        ...list(rule.inputs.ipv6CidrBlocks as string[]),
      ];
      if (cidrs.length > 0)
        fail(rule, `egress to ${cidrs.join(', ')}: only endpoint groups and prefix lists`);
    }
    if (groups.size === 0) {
      violations.push({
        rule: this.id,
        resource: '(app)',
        message: 'no sandbox security group found to check',
      });
    }
    return violations;
  },
};

export const sandboxRoutesRule: Rule = {
  id: 'sandbox-subnets-isolated',
  description: 'No route from the sandbox subnets to a NAT or internet gateway; no public IPs',
  check(resources) {
    const { subnets } = sandboxNetwork(resources);
    const violations: Violation[] = [];
    const fail = (r: SynthResource | string, message: string) =>
      violations.push({ rule: this.id, resource: typeof r === 'string' ? r : label(r), message });
    const gatewayIds = new Set(
      ofType(
        resources,
        'aws:ec2/internetGateway:InternetGateway',
        'aws:ec2/natGateway:NatGateway',
        'aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway',
      ).map((g) => g.id),
    );
    const toInternet = (route: Record<string, unknown>) =>
      Boolean(route.natGatewayId || route.egressOnlyGatewayId) ||
      (typeof route.gatewayId === 'string' &&
        (route.gatewayId.startsWith('igw-') || gatewayIds.has(route.gatewayId)));
    for (const subnetId of subnets) {
      const subnet = resources.find((r) => r.type === 'aws:ec2/subnet:Subnet' && r.id === subnetId);
      if (!subnet) {
        fail(subnetId, 'the workflow runs the sandbox in a subnet this app does not define');
        continue;
      }
      if (subnet.inputs.mapPublicIpOnLaunch) fail(subnet, 'the sandbox subnet gives tasks public IPs');
      const tables = ofType(resources, 'aws:ec2/routeTableAssociation:RouteTableAssociation')
        .filter((a) => a.inputs.subnetId === subnetId)
        .map((a) => String(a.inputs.routeTableId));
      if (tables.length === 0)
        fail(subnet, 'the sandbox subnet has no explicit route table, so its routes cannot be checked');
      for (const tableId of tables) {
        const table = resources.find((r) => r.type === 'aws:ec2/routeTable:RouteTable' && r.id === tableId);
        for (const route of list(table?.inputs.routes as Record<string, unknown>[] | undefined)) {
          if (toInternet(route))
            fail(
              table as SynthResource,
              `route ${String(route.cidrBlock ?? route.ipv6CidrBlock)} leaves through a NAT or internet gateway`,
            );
        }
        for (const route of ofType(resources, 'aws:ec2/route:Route').filter(
          (r) => r.inputs.routeTableId === tableId,
        )) {
          if (toInternet(route.inputs))
            fail(
              route,
              `route ${String(route.inputs.destinationCidrBlock ?? route.inputs.destinationIpv6CidrBlock)} from a sandbox subnet leaves through a NAT or internet gateway`,
            );
        }
      }
    }
    if (subnets.size === 0)
      fail('(app)', 'no workflow runs a sandbox task, so no sandbox subnet was found to check');
    return violations;
  },
};

interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Every identity and resource policy document the app registers, with where it is. */
export function policyDocuments(resources: SynthResource[]) {
  const documents: { resource: SynthResource; where: string; document: string }[] = [];
  for (const r of resources) {
    if (r.type === 'aws:iam/role:Role') {
      for (const inline of list(
        r.inputs.inlinePolicies as { name?: string; policy?: string }[] | undefined,
      )) {
        if (inline.policy)
          documents.push({
            resource: r,
            where: `inline policy ${inline.name ?? ''}`,
            document: inline.policy,
          });
      }
    }
    if (
      [
        'aws:iam/rolePolicy:RolePolicy',
        'aws:iam/policy:Policy',
        'aws:iam/userPolicy:UserPolicy',
        'aws:iam/groupPolicy:GroupPolicy',
        'aws:s3/bucketPolicy:BucketPolicy',
        'aws:sns/topicPolicy:TopicPolicy',
      ].includes(r.type)
    ) {
      if (typeof r.inputs.policy === 'string')
        documents.push({ resource: r, where: 'policy', document: r.inputs.policy });
    }
  }
  return documents;
}

export const iamWildcardRule: Rule = {
  id: 'iam-least-privilege',
  description:
    'No Allow statement with a `*` in an action, no NotAction/NotResource, `*` resources only for allowlisted actions, no unlisted managed policies',
  check(resources) {
    const violations: Violation[] = [];
    for (const { resource, where, document } of policyDocuments(resources)) {
      let statements: PolicyStatement[];
      try {
        statements = list(
          (JSON.parse(document) as { Statement?: PolicyStatement | PolicyStatement[] }).Statement,
        );
      } catch {
        violations.push({ rule: this.id, resource: label(resource), message: `${where} is not valid JSON` });
        continue;
      }
      for (const statement of statements) {
        // Deny statements (e.g. the bucket's TLS-only guard) narrow access; wildcards there are safe.
        if (statement.Effect === 'Deny') continue;
        const name = `${where}${statement.Sid ? ` statement ${statement.Sid}` : ''}`;
        const fail = (message: string) =>
          violations.push({ rule: this.id, resource: label(resource), message: `${name}: ${message}` });
        if (statement.NotAction || statement.NotResource)
          fail('NotAction/NotResource grants everything else; name what is allowed');
        const actions = list(statement.Action);
        const wildcards = actions.filter((action) => action.includes('*'));
        if (wildcards.length > 0) fail(`wildcard action ${wildcards.join(', ')}: name each action`);
        if (list(statement.Resource).includes('*')) {
          const unlisted = actions.filter((action) => !STAR_RESOURCE_ALLOWLIST.includes(action));
          if (unlisted.length > 0)
            fail(`resource "*" for ${unlisted.join(', ')}, which AWS lets you scope: name the resources`);
        }
      }
    }
    for (const role of ofType(resources, 'aws:iam/role:Role')) {
      for (const arn of list(role.inputs.managedPolicyArns as string[] | undefined)) {
        if (!MANAGED_POLICY_ALLOWLIST.includes(arn)) {
          violations.push({
            rule: this.id,
            resource: label(role),
            message: `managed policy ${arn} is not allowlisted: grant inline, scoped statements instead`,
          });
        }
      }
    }
    for (const attachment of ofType(resources, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment')) {
      const arn = String(attachment.inputs.policyArn);
      if (arn.includes(':aws:policy/') && !MANAGED_POLICY_ALLOWLIST.includes(arn)) {
        violations.push({
          rule: this.id,
          resource: label(attachment),
          message: `managed policy ${arn} is not allowlisted`,
        });
      }
    }
    return violations;
  },
};

export const bucketProtectionRule: Rule = {
  id: 'bucket-protections',
  description: 'Every bucket blocks public access (all four settings), is encrypted and versioned',
  check(resources) {
    const violations: Violation[] = [];
    for (const bucket of ofType(resources, 'aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2')) {
      const fail = (message: string) => violations.push({ rule: this.id, resource: label(bucket), message });
      const attached = (type: string) =>
        ofType(resources, type).filter((r) => refersTo(r.inputs.bucket, bucket));
      const block = attached('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')[0];
      const settings = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'];
      if (!block) fail('no public access block');
      else {
        const off = settings.filter((key) => block.inputs[key] !== true);
        if (off.length > 0) fail(`public access block leaves ${off.join(', ')} off`);
      }
      const encryption = [
        ...attached('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration'),
        ...attached(
          'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2',
        ),
      ];
      const algorithms = encryption.flatMap((e) =>
        list(e.inputs.rules as { applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }[]).map(
          (rule) => rule.applyServerSideEncryptionByDefault?.sseAlgorithm,
        ),
      );
      if (!algorithms.some((a) => a === 'AES256' || a?.startsWith('aws:kms')))
        fail('no default encryption (AES256 or aws:kms)');
      const versioning = [
        ...attached('aws:s3/bucketVersioning:BucketVersioning'),
        ...attached('aws:s3/bucketVersioningV2:BucketVersioningV2'),
      ];
      if (
        !versioning.some(
          (v) => (v.inputs.versioningConfiguration as { status?: string })?.status === 'Enabled',
        )
      ) {
        fail('versioning is not enabled');
      }
    }
    return violations;
  },
};

export const tableProtectionRule: Rule = {
  id: 'table-point-in-time-recovery',
  description: 'Every DynamoDB table has point-in-time recovery on',
  check(resources) {
    return ofType(resources, 'aws:dynamodb/table:Table')
      .filter(
        (table) => (table.inputs.pointInTimeRecovery as { enabled?: boolean } | undefined)?.enabled !== true,
      )
      .map((table) => ({ rule: this.id, resource: label(table), message: 'point-in-time recovery is off' }));
  },
};

export const logRetentionRule: Rule = {
  id: 'log-retention',
  description: 'Every log group has a retention period',
  check(resources) {
    return ofType(resources, 'aws:cloudwatch/logGroup:LogGroup')
      .filter(
        (group) => !(typeof group.inputs.retentionInDays === 'number' && group.inputs.retentionInDays > 0),
      )
      .map((group) => ({
        rule: this.id,
        resource: label(group),
        message: 'no retention: logs would be kept forever',
      }));
  },
};

const pascal = (step: string) => `${step[0]?.toUpperCase()}${step.slice(1)}`;

/** Gantry's workflows by the suffix of their physical name: each must be deployed, once. */
export const WORKFLOW_NAMES = { issueResolver: 'issue-resolver', rollback: 'rollback' } as const;

const isWorkflow = (machine: SynthResource, suffix: string) =>
  String(machine.inputs.name ?? machine.name).endsWith(`-${suffix}`);

export const stateMachineRule: Rule = {
  id: 'state-machines-valid',
  description:
    'Both workflows (issue resolver, rollback) are deployed; every state machine is valid ASL, logs (ALL) and traces, and refers only to functions, state machines, clusters, task definitions, containers, subnets and groups that exist',
  check(resources) {
    const violations: Violation[] = [];
    const functionArns = new Set(
      ofType(resources, 'aws:lambda/function:Function').map((f) => String(f.state.arn)),
    );
    const machines = ofType(resources, 'aws:sfn/stateMachine:StateMachine');
    const machineArns = new Set(machines.map((m) => String(m.state.arn)));
    const clusters = new Set(ofType(resources, 'aws:ecs/cluster:Cluster').map((c) => String(c.state.arn)));
    const taskDefinitions = ofType(resources, 'aws:ecs/taskDefinition:TaskDefinition');
    const ids = (type: string) => new Set(ofType(resources, type).map((r) => r.id));
    const subnets = ids('aws:ec2/subnet:Subnet');
    const groups = ids('aws:ec2/securityGroup:SecurityGroup');
    for (const suffix of Object.values(WORKFLOW_NAMES)) {
      const found = machines.filter((m) => isWorkflow(m, suffix));
      if (found.length !== 1)
        violations.push({
          rule: this.id,
          resource: '(app)',
          message: `expected one state machine named …-${suffix}, found ${found.length}`,
        });
    }
    // The Lambda steps by name: every Task of a Gantry workflow must call the function deployed for its step.
    const functionsByStep = new Map(
      ofType(resources, 'aws:lambda/function:Function').map((f) => [
        String(f.inputs.name ?? f.name).replace(/^.*-Step/, ''),
        String(f.state.arn),
      ]),
    );
    const rollbackMachine = machines.find((m) => isWorkflow(m, WORKFLOW_NAMES.rollback));
    for (const { machine, definition } of definitions(resources)) {
      const fail = (message: string) => violations.push({ rule: this.id, resource: label(machine), message });
      if (!definition) {
        fail('the definition is not JSON');
        continue;
      }
      const { isValid, errorsText } = validator(definition as never);
      if (!isValid) fail(`invalid ASL: ${errorsText()}`);
      const logging = machine.inputs.loggingConfiguration as
        | { level?: string; logDestination?: string }
        | undefined;
      if (logging?.level !== 'ALL' || !logging.logDestination)
        fail('execution logging is not level ALL with a destination');
      if ((machine.inputs.tracingConfiguration as { enabled?: boolean } | undefined)?.enabled !== true)
        fail('X-Ray tracing is off');
      for (const [name, state] of Object.entries(definition.States ?? {})) {
        if (state.Type !== 'Task') continue;
        if (state.Resource.startsWith('arn:aws:states:::ecs:runTask')) {
          const parameters = state.Parameters as EcsParameters;
          if (!clusters.has(String(parameters.Cluster)))
            fail(`state ${name} runs a task on cluster ${String(parameters.Cluster)}, which does not exist`);
          const taskDefinition = taskDefinitions.find(
            (t) => t.state.arn === parameters.TaskDefinition || t.inputs.family === parameters.TaskDefinition,
          );
          if (!taskDefinition) {
            fail(
              `state ${name} runs task definition ${String(parameters.TaskDefinition)}, which does not exist`,
            );
          } else {
            const containers = (
              JSON.parse(String(taskDefinition.inputs.containerDefinitions)) as { name: string }[]
            ).map((c) => c.name);
            for (const override of parameters.Overrides?.ContainerOverrides ?? []) {
              if (!containers.includes(String(override.Name)))
                fail(
                  `state ${name} overrides container ${String(override.Name)}, which the task definition lacks`,
                );
            }
          }
          const network = parameters.NetworkConfiguration?.AwsvpcConfiguration;
          for (const subnet of network?.Subnets ?? [])
            if (!subnets.has(subnet)) fail(`state ${name} uses subnet ${subnet}, which does not exist`);
          for (const group of network?.SecurityGroups ?? [])
            if (!groups.has(group)) fail(`state ${name} uses security group ${group}, which does not exist`);
          continue;
        }
        if (state.Resource.startsWith('arn:aws:states:::states:startExecution')) {
          const target = String((state.Parameters as { StateMachineArn?: string }).StateMachineArn);
          if (!machineArns.has(target))
            fail(`state ${name} starts ${target}, which is not a state machine of this app`);
          else if (target === String(machine.state.arn))
            fail(`state ${name} starts its own state machine: an execution would nest without end`);
          continue;
        }
        const target = state.Resource.startsWith('arn:aws:states:::lambda:invoke')
          ? String((state.Parameters as { FunctionName?: string }).FunctionName)
          : state.Resource;
        if (!functionArns.has(target))
          fail(`state ${name} invokes ${target}, which is not a function of this app`);
      }
      if (!Object.values(WORKFLOW_NAMES).some((suffix) => isWorkflow(machine, suffix))) continue;
      const missing = lambdaSteps.filter((step) => !functionsByStep.has(pascal(step)));
      for (const step of missing)
        fail(`no function deployed for the Lambda step ${step} (expected one named …-Step${pascal(step)})`);
      const res: StepResources = {
        functionArn: (step: LambdaStep) => functionsByStep.get(pascal(step)) ?? `missing:${step}`,
        sandboxTask: { cluster: '', taskDefinition: '', container: '', subnets: [], securityGroups: [] },
        rollbackMachineArn: String(rollbackMachine?.state.arn ?? 'missing:rollback'),
      };
      try {
        taskSteps(definition, res);
      } catch (error) {
        fail(`a Task state does not call its step's function: ${(error as Error).message}`);
      }
    }
    return violations;
  },
};

/**
 * What a state machine's role may invoke and start: exactly the functions its definition calls and the
 * state machines it starts (a nested `.sync:2` execution also needs to describe and stop them).
 */
export const stateMachineRoleRule: Rule = {
  id: 'state-machine-role-scoped',
  description:
    "Each state machine's role may invoke exactly the functions its definition calls and start exactly the state machines it nests",
  check(resources) {
    const violations: Violation[] = [];
    const roles = ofType(resources, 'aws:iam/role:Role');
    for (const { machine, definition } of definitions(resources)) {
      if (!definition) continue;
      const fail = (message: string) => violations.push({ rule: this.id, resource: label(machine), message });
      const role = roles.find(
        (r) => r.state.arn === machine.inputs.roleArn || r.id === machine.inputs.roleArn,
      );
      if (!role) {
        fail(`its role ${String(machine.inputs.roleArn)} is not a role of this app`);
        continue;
      }
      const called = new Set<string>();
      const started = new Set<string>();
      for (const state of Object.values(definition.States ?? {})) {
        if (state.Type !== 'Task') continue;
        if (state.Resource.startsWith('arn:aws:states:::ecs:')) continue;
        if (
          state.Resource === START_EXECUTION_SYNC ||
          state.Resource.startsWith('arn:aws:states:::states:')
        ) {
          started.add(String((state.Parameters as { StateMachineArn?: string }).StateMachineArn));
          continue;
        }
        called.add(
          state.Resource.startsWith('arn:aws:states:::lambda:invoke')
            ? String((state.Parameters as { FunctionName?: string }).FunctionName)
            : state.Resource,
        );
      }
      const statements = roleStatements(resources, role);
      const granted = (action: string) =>
        new Set(statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource)));
      const compare = (action: string, expected: Set<string>) => {
        const actual = granted(action);
        const extra = [...actual].filter((arn) => !expected.has(arn));
        const lacking = [...expected].filter((arn) => !actual.has(arn));
        if (extra.length > 0)
          fail(`its role may ${action} on ${extra.join(', ')}, which its definition never calls`);
        if (lacking.length > 0)
          fail(`its role may not ${action} on ${lacking.join(', ')}, which its definition calls`);
      };
      compare('lambda:InvokeFunction', called);
      compare('states:StartExecution', started);
      if (started.size > 0) {
        const followed = [...granted('states:DescribeExecution')];
        for (const arn of started) {
          const executions = `${arn.replace(':stateMachine:', ':execution:')}:*`;
          if (!followed.includes(executions))
            fail(
              `its role cannot follow the executions it nests (states:DescribeExecution on ${executions})`,
            );
        }
      }
    }
    return violations;
  },
};

/** IAM's variable for the run a sandbox session is tagged with. */
export const PRINCIPAL_RUN = '$' + '{aws:PrincipalTag/run}';
/** DynamoDB actions that only read: allowed on a table whose key cannot name the run (records). */
const DYNAMODB_READS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:BatchGetItem',
  'dynamodb:DescribeTable',
];

/** The statements of a role: its inline policies and the role policies attached to it. */
function roleStatements(resources: SynthResource[], role: SynthResource): PolicyStatement[] {
  return policyDocuments(resources)
    .filter(
      ({ resource }) =>
        resource === role ||
        (resource.type === 'aws:iam/rolePolicy:RolePolicy' && refersTo(resource.inputs.role, role)),
    )
    .flatMap(({ document }) => {
      try {
        return list((JSON.parse(document) as { Statement?: PolicyStatement | PolicyStatement[] }).Statement);
      } catch {
        return [];
      }
    })
    .filter((statement) => statement.Effect !== 'Deny');
}

export const sandboxTaskRoleRule: Rule = {
  id: 'sandbox-task-role-run-scoped',
  description:
    'The sandbox task role has no s3:, dynamodb: or bedrock: action (data goes through the run grant); the sandbox run role scopes its S3 objects and DynamoDB leading keys by the aws:PrincipalTag/run variable (on the records table: the named delivery kinds) and trusts only sessions tagged with a run',
  check(resources) {
    const violations: Violation[] = [];
    const fail = (r: SynthResource | string, message: string) =>
      violations.push({ rule: this.id, resource: typeof r === 'string' ? r : label(r), message });
    const roles = ofType(resources, 'aws:iam/role:Role');
    const taskRoleArns = new Set(
      ofType(resources, 'aws:ecs/taskDefinition:TaskDefinition')
        .filter((t) => /sandbox/i.test(String(t.inputs.family ?? t.name)))
        .map((t) => String(t.inputs.taskRoleArn)),
    );
    const taskRoles = roles.filter((r) => taskRoleArns.has(String(r.state.arn)) || taskRoleArns.has(r.id));
    if (taskRoles.length === 0) fail('(app)', 'no sandbox task role found to check');
    for (const role of taskRoles) {
      for (const statement of roleStatements(resources, role)) {
        const data = list(statement.Action).filter((a) => /^(s3|dynamodb|bedrock):/.test(a));
        if (data.length > 0)
          fail(
            role,
            `the sandbox task role may ${data.join(', ')}${statement.Sid ? ` (statement ${statement.Sid})` : ''}: data access goes through the run grant's credentials, scoped to one run`,
          );
      }
    }
    const runRole = roles.find(
      (r) => r.name === 'SandboxRunRole' || String(r.inputs.name).endsWith('-sandbox-run'),
    );
    if (!runRole) {
      fail('(app)', 'no sandbox run role (SandboxRunRole) found to check');
      return violations;
    }
    const recordsTables = new Set(
      ofType(resources, 'aws:dynamodb/table:Table')
        .filter((t) => /records/i.test(String(t.inputs.name ?? t.name)))
        .map((t) => String(t.state.arn)),
    );
    for (const statement of roleStatements(resources, runRole)) {
      const actions = list(statement.Action);
      const where = statement.Sid ? `statement ${statement.Sid}` : 'a statement';
      if (actions.some((a) => a.startsWith('s3:'))) {
        const unscoped = list(statement.Resource).filter((r) => !r.includes(`/runs/${PRINCIPAL_RUN}/`));
        if (unscoped.length > 0)
          fail(runRole, `${where} grants S3 on ${unscoped.join(', ')}, not under runs/${PRINCIPAL_RUN}/`);
      }
      const dynamo = actions.filter((a) => a.startsWith('dynamodb:'));
      if (dynamo.length > 0) {
        const leading = list(statement.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys']);
        const scoped = leading.length > 0 && leading.every((key) => key === PRINCIPAL_RUN);
        // The records table is keyed by kind: writes there must name only the delivery kinds the task keeps.
        const namedKinds =
          leading.length > 0 &&
          leading.every((key) => SANDBOX_WRITABLE_RECORD_KINDS.includes(key)) &&
          list(statement.Resource).every((arn) => recordsTables.has(arn));
        const writes = dynamo.filter((a) => !DYNAMODB_READS.includes(a));
        if (!scoped && !namedKinds && writes.length > 0)
          fail(
            runRole,
            `${where} allows ${writes.join(', ')} without a dynamodb:LeadingKeys condition on ${PRINCIPAL_RUN} (or, on the records table, on the kinds ${SANDBOX_WRITABLE_RECORD_KINDS.join(', ')})`,
          );
      }
    }
    const trust = (() => {
      try {
        return list(
          (
            JSON.parse(String(runRole.inputs.assumeRolePolicy)) as {
              Statement?: PolicyStatement | PolicyStatement[];
            }
          ).Statement,
        );
      } catch {
        return [];
      }
    })();
    const untagged = trust.filter(
      (t) => t.Effect === 'Allow' && list(t.Condition?.Null?.['aws:RequestTag/run']).join() !== 'false',
    );
    if (trust.length === 0 || untagged.length > 0)
      fail(runRole, 'the run role can be assumed without a run session tag (aws:RequestTag/run)');
    return violations;
  },
};

export const rules: readonly Rule[] = [
  sandboxEgressRule,
  sandboxRoutesRule,
  iamWildcardRule,
  bucketProtectionRule,
  tableProtectionRule,
  logRetentionRule,
  stateMachineRule,
  stateMachineRoleRule,
  sandboxTaskRoleRule,
];

/**
 * Runs every rule over the app's resources (secret inputs unwrapped first).
 *
 * @example
 * const violations = checkResources(synthesis.resources); // [] when the app meets the policy
 */
export function checkResources(resources: SynthResource[], only: readonly Rule[] = rules): Violation[] {
  const plain = resources.map((r) => ({
    ...r,
    inputs: unwrapSecrets(r.inputs) as Record<string, unknown>,
    state: unwrapSecrets(r.state) as Record<string, unknown>,
  }));
  return only.flatMap((rule) => rule.check(plain));
}
