import 'reflect-metadata';
import { runMain, startHttpApp } from '@usageguard/observability';
import { DashboardAppModule } from './app.module';
import { configureDashboardHttp } from './dashboard.http';

runMain(() =>
  startHttpApp(DashboardAppModule, {
    name: 'dashboard',
    port: (config) => config.http.ports.dashboard,
    configure: configureDashboardHttp,
  }),
);
