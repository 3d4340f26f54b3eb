export { BedrockConverseModel, type BedrockConverseModelOptions, toConverseInput } from './bedrock.js';
export { Cassette, CassetteModel, RecordingModel } from './cassette.js';
export { createModel, MODEL_SPEC_FORMS } from './create-model.js';
export {
  OpenAICompatibleModel,
  type OpenAICompatibleModelOptions,
  toChatCompletionBody,
  UNPARSED_ARGUMENTS,
} from './openai.js';
