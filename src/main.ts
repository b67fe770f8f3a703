// The entry point (`node dist/src/main.js`, `npm start`, the Docker image). It loads nothing else before the
// process runs with the app's memory settings (config/memory-settings.ts), which may replace this process with
// itself started with them; then the server.
import { applyMemorySettings } from './config/memory-settings.js';

applyMemorySettings();
await import('./server.js');
