/**
 * Bedrock access: the stage's model ids and nothing else. An id with a geography prefix (`eu.`, `us.`,
 * `apac.`, `global.`) is a cross-region inference profile, which needs the profile and the foundation
 * model it routes to.
 */
import { accountId, partition, region, type Statement, settings } from './stage.js';

const PROFILE_PREFIX = /^(us|eu|apac|global)\./;

/** The ARNs the stage's model ids resolve to. */
export const modelArns = settings.models.flatMap((id) => {
  const foundation = id.replace(PROFILE_PREFIX, '');
  const foundationArn = $interpolate`arn:${partition}:bedrock:*::foundation-model/${foundation}`;
  if (!PROFILE_PREFIX.test(id))
    return [$interpolate`arn:${partition}:bedrock:${region}::foundation-model/${id}`];
  return [
    $interpolate`arn:${partition}:bedrock:${region}:${accountId}:inference-profile/${id}`,
    foundationArn,
  ];
});

/** The statement every model caller gets. */
export const bedrockInvokeStatement: Statement = {
  Sid: 'InvokeConfiguredModels',
  Effect: 'Allow',
  Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
  Resource: modelArns,
};

export const modelIds = settings.models.join(',');
