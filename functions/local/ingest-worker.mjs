// Entry of an ingest worker thread. Threads start without the loaders of the process that
// made them, so tsx is registered here, as the `pipeline` command registers it for itself.
import { register } from 'tsx/esm/api';

register();
await import('./ingest-worker.ts');
