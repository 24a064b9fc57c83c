/** Runs `work` over `items`, at most `concurrency` at a time, in order of the items. */
export { inParallel as inBatches } from '../../lib/parallel';
