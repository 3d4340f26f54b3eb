/**
 * The sandbox network: a VPC whose subnets are isolated (no NAT, no internet gateway, no route but the
 * VPC's own and the gateway endpoints), the endpoints the sandbox task needs, and a security group whose
 * only egress is HTTPS to those endpoints. Agent commands therefore cannot reach the internet even if the
 * process sandbox inside the task failed.
 */
import { prefix, region } from './stage.js';

export const vpc = new aws.ec2.Vpc('SandboxVpc', {
  cidrBlock: '10.42.0.0/16',
  enableDnsHostnames: true,
  enableDnsSupport: true,
  tags: { Name: `${prefix}-sandbox` },
});

// No aws.ec2.InternetGateway and no aws.ec2.NatGateway exist in this app; infra:check asserts it.
export const isolatedRouteTable = new aws.ec2.RouteTable('SandboxIsolatedRoutes', {
  vpcId: vpc.id,
  tags: { Name: `${prefix}-sandbox-isolated` },
});

export const isolatedSubnets = ['a', 'b'].map((zone, index) => {
  const subnet = new aws.ec2.Subnet(`SandboxIsolatedSubnet${zone.toUpperCase()}`, {
    vpcId: vpc.id,
    cidrBlock: `10.42.${index}.0/24`,
    availabilityZone: $interpolate`${region}${zone}`,
    mapPublicIpOnLaunch: false,
    tags: { Name: `${prefix}-sandbox-isolated-${zone}` },
  });
  new aws.ec2.RouteTableAssociation(`SandboxIsolatedSubnet${zone.toUpperCase()}Routes`, {
    subnetId: subnet.id,
    routeTableId: isolatedRouteTable.id,
  });
  return subnet;
});
export const isolatedSubnetIds = isolatedSubnets.map((subnet) => subnet.id);

export const sandboxSecurityGroup = new aws.ec2.SecurityGroup('SandboxSecurityGroup', {
  vpcId: vpc.id,
  name: `${prefix}-sandbox`,
  description: 'Gantry sandbox tasks: HTTPS to the VPC endpoints only',
  // Inline rules stay empty so the standalone rules below are the whole truth (and the AWS default
  // allow-all egress rule is removed on creation).
  egress: [],
  ingress: [],
});

export const endpointSecurityGroup = new aws.ec2.SecurityGroup('EndpointSecurityGroup', {
  vpcId: vpc.id,
  name: `${prefix}-endpoints`,
  description: 'Gantry VPC interface endpoints: HTTPS from the sandbox only',
  egress: [],
  ingress: [],
});

new aws.vpc.SecurityGroupIngressRule('EndpointsFromSandbox', {
  securityGroupId: endpointSecurityGroup.id,
  referencedSecurityGroupId: sandboxSecurityGroup.id,
  ipProtocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  description: 'HTTPS from sandbox tasks',
});

new aws.vpc.SecurityGroupEgressRule('SandboxToEndpoints', {
  securityGroupId: sandboxSecurityGroup.id,
  referencedSecurityGroupId: endpointSecurityGroup.id,
  ipProtocol: 'tcp',
  fromPort: 443,
  toPort: 443,
  description: 'HTTPS to the interface endpoints',
});

/** Gateway endpoints: traffic to S3 (image layers, artifacts) and DynamoDB (the run journal). */
export const gatewayEndpoints = (['s3', 'dynamodb'] as const).map((service) => {
  const endpoint = new aws.ec2.VpcEndpoint(`SandboxEndpoint${service === 's3' ? 'S3' : 'DynamoDb'}`, {
    vpcId: vpc.id,
    serviceName: $interpolate`com.amazonaws.${region}.${service}`,
    vpcEndpointType: 'Gateway',
    routeTableIds: [isolatedRouteTable.id],
  });
  new aws.vpc.SecurityGroupEgressRule(`SandboxTo${service === 's3' ? 'S3' : 'DynamoDb'}`, {
    securityGroupId: sandboxSecurityGroup.id,
    prefixListId: endpoint.prefixListId,
    ipProtocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    description: `HTTPS to the ${service} gateway endpoint`,
  });
  return endpoint;
});

/** Interface endpoints the sandbox task needs: image pull, logs, the model, Step Functions, credentials, grants. */
export const interfaceServices = [
  'ecr.api',
  'ecr.dkr',
  'logs',
  'bedrock-runtime',
  'states',
  'sts',
  // The task opens its run grant (KMS Decrypt) from the isolated subnets.
  'kms',
] as const;
export const interfaceEndpoints = interfaceServices.map(
  (service) =>
    new aws.ec2.VpcEndpoint(
      `SandboxEndpoint${service.replace(/(^|[.-])(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
      {
        vpcId: vpc.id,
        serviceName: $interpolate`com.amazonaws.${region}.${service}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: isolatedSubnetIds,
        securityGroupIds: [endpointSecurityGroup.id],
      },
    ),
);

/** The run workspaces' file system: NFS from the sandbox tasks and nothing else. */
export const workspaceFileSystemSecurityGroup = new aws.ec2.SecurityGroup('WorkspaceFsSecurityGroup', {
  vpcId: vpc.id,
  name: `${prefix}-workspaces`,
  description: 'Gantry run workspaces (EFS): NFS from sandbox tasks only',
  egress: [],
  ingress: [],
});

new aws.vpc.SecurityGroupIngressRule('WorkspaceFsFromSandbox', {
  securityGroupId: workspaceFileSystemSecurityGroup.id,
  referencedSecurityGroupId: sandboxSecurityGroup.id,
  ipProtocol: 'tcp',
  fromPort: 2049,
  toPort: 2049,
  description: 'NFS from sandbox tasks',
});

new aws.vpc.SecurityGroupEgressRule('SandboxToWorkspaceFs', {
  securityGroupId: sandboxSecurityGroup.id,
  referencedSecurityGroupId: workspaceFileSystemSecurityGroup.id,
  ipProtocol: 'tcp',
  fromPort: 2049,
  toPort: 2049,
  description: 'NFS to the run workspaces',
});
