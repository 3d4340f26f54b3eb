export {
  buildReleasePacket,
  ReleaseApproval,
  ReleaseChange,
  ReleaseCheck,
  ReleasePacket,
  ReleasePacketInput,
  RolloutPlan,
  RolloutSteps,
  releaseBlockers,
} from './release-packet.js';
export { renderReleasePacket } from './render-release-packet.js';
