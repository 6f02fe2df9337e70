import 'reflect-metadata';
import { runMain } from '@usageguard/observability';
import { startEdge } from './edge-app.module';

runMain(() => startEdge());
