import { Platform1795896907293 } from './1795896907293-Platform.js';
import { CrmRecords1795897507594 } from './1795897507594-CrmRecords.js';
import { Webhooks1795898000000 } from './1795898000000-Webhooks.js';
import { Inbound1795899000000 } from './1795899000000-Inbound.js';
import { SearchStatistics1795900000000 } from './1795900000000-SearchStatistics.js';
import { EventFeedAndFilters1795910000000 } from './1795910000000-EventFeedAndFilters.js';
import { Retention1795920000000 } from './1795920000000-Retention.js';
import { ScaleIndexes1795930000000 } from './1795930000000-ScaleIndexes.js';
import { PendingDeliveryIndexes1795940000000 } from './1795940000000-PendingDeliveryIndexes.js';

/** Every migration in order; listed explicitly because ESM builds cannot be globbed reliably. */
export const migrations = [Platform1795896907293, CrmRecords1795897507594, Webhooks1795898000000, Inbound1795899000000, SearchStatistics1795900000000, EventFeedAndFilters1795910000000, Retention1795920000000, ScaleIndexes1795930000000, PendingDeliveryIndexes1795940000000];
