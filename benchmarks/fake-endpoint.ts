/** A fake OpenAI-compatible endpoint in its own process, for benchmarks: prints its base URL. */
import { startFakeOpenAIServer } from '../tests/helpers/fake-openai-server.ts';

const server = await startFakeOpenAIServer();
server.latencyMs = Number(process.argv[2] ?? 50);
process.stdout.write(`${server.baseURL}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
