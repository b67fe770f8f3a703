import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth/auth.decorators.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('health')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics: deliveries by outcome, attempt latency, queue depths', description: 'Expose it to your scraper only (e.g. block /api/metrics at the proxy).' })
  @ApiProduces('text/plain; version=0.0.4')
  @ApiOkResponse({
    description: 'Prometheus text exposition format (not JSON)',
    content: { 'text/plain; version=0.0.4': { schema: { type: 'string', example: '# HELP junction_webhook_deliveries_total …' } } },
  })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
