import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../common/auth/auth.decorators.js';
import { AppError } from '../common/errors/app-error.js';
import { ApiErrors } from '../common/http/api-errors.decorator.js';

export class HealthResponseDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' }) status: 'ok';
  @ApiProperty({ type: 'object', additionalProperties: true, example: { database: { status: 'up' } }, description: 'Each check that passed' })
  info: Record<string, unknown>;
}

/** Seconds a client should wait before asking again while the database is unreachable. */
const RETRY_AFTER_SECONDS = '5';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ type: HealthResponseDto, description: 'Up' })
  async live(): Promise<HealthResponseDto> {
    const { info } = await this.health.check([]);
    return { status: 'ok', info: info ?? {} };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers' })
  @ApiOkResponse({ type: HealthResponseDto, description: 'Ready' })
  @ApiErrors('DATABASE_UNAVAILABLE')
  async ready(): Promise<HealthResponseDto> {
    let timer: NodeJS.Timeout | undefined;
    // The ping's own timeout does not cover waiting for a pooled connection, which an outage under load makes long.
    const noAnswer = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ServiceUnavailableException()), 2_000);
    });
    try {
      const { info } = await Promise.race([this.health.check([() => this.database.pingCheck('database').withTimeout(1500)]), noAnswer]);
      return { status: 'ok', info: info ?? {} };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      throw new AppError('DATABASE_UNAVAILABLE', 'The database does not answer; retry shortly', { headers: { 'retry-after': RETRY_AFTER_SECONDS } });
    } finally {
      clearTimeout(timer);
    }
  }
}
