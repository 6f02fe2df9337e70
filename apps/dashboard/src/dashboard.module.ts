import { Module } from '@nestjs/common';
import { SessionGuard } from './auth/session.guard';
import { AccountsController } from './controllers/accounts.controller';
import { AuditController } from './controllers/audit.controller';
import { AuthController } from './controllers/auth.controller';
import { BurstNoticesController } from './controllers/burst-notices.controller';
import { FlagsController } from './controllers/flags.controller';
import { NotificationsController } from './controllers/notifications.controller';
import { OverviewController } from './controllers/overview.controller';
import { PlansController } from './controllers/plans.controller';
import { RestrictionsController } from './controllers/restrictions.controller';
import { AccountsService } from './services/accounts.service';
import { ActionsService } from './services/actions.service';
import { AuditService } from './services/audit.service';
import { AuthService } from './services/auth.service';
import { BurstNoticesService } from './services/burst-notices.service';
import { EnforcerGateway } from './services/enforcer-gateway.service';
import { LoginThrottleService } from './services/login-throttle.service';
import { PlansService } from './services/plans.service';
import { SessionService } from './services/session.service';
import { UsageService } from './services/usage.service';

/**
 * The ops dashboard: its API under /api (every controller behind SessionGuard) and, through dashboard.http.ts, the
 * web UI and OpenAPI docs. Infrastructure (Postgres, Redis, ClickHouse, queues) comes from the root module.
 */
@Module({
  controllers: [
    AuthController,
    OverviewController,
    FlagsController,
    AccountsController,
    RestrictionsController,
    NotificationsController,
    BurstNoticesController,
    PlansController,
    AuditController,
  ],
  providers: [
    SessionGuard,
    SessionService,
    LoginThrottleService,
    AuthService,
    AuditService,
    EnforcerGateway,
    ActionsService,
    AccountsService,
    UsageService,
    BurstNoticesService,
    PlansService,
  ],
})
export class DashboardModule {}
