import { ReadRoute, SignedInController } from '../infra/http/routes';
import { Get, Query } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth';
import { LoginAuditPageDto, LoginAuditPageQuery, LoginAuditQueryDto } from './login-audit.dto';
import { LoginAudit } from './login-audit.service';

@SignedInController('audit')
export class LoginAuditsController {
  constructor(private readonly audit: LoginAudit) {}

  /** Every login, failed login and logout, newest first; filter by the email tried or the user. */
  @Get('admin/login-audits')
  @Roles('admin')
  @ApiOkResponse({ type: LoginAuditPageDto })
  list(@Query() q: LoginAuditQueryDto): Promise<LoginAuditPageDto> {
    return this.audit.list(q);
  }

  /** The caller's own logins (including failed attempts on their account), newest first. */
  @ReadRoute({ type: LoginAuditPageDto }, 'users/me/logins')
  mine(@CurrentUser() user: AuthUser, @Query() q: LoginAuditPageQuery): Promise<LoginAuditPageDto> {
    return this.audit.list({ ...q, userId: user.id });
  }
}
