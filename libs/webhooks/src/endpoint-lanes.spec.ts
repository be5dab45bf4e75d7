import { QueueName } from '@app/platform';
import { EndpointLanes } from './endpoint-lanes';

describe('EndpointLanes', () => {
  it('sends an endpoint to the slow lane after a slow or timed-out attempt, and back when fast', () => {
    const lanes = new EndpointLanes();
    expect(lanes.queueFor('e1')).toBe(QueueName.Delivery);
    lanes.observe('e1', 5000, false);
    expect(lanes.queueFor('e1')).toBe(QueueName.DeliverySlow);
    lanes.observe('e1', 20, false);
    expect(lanes.queueFor('e1')).toBe(QueueName.Delivery);
    lanes.observe('e2', 10, true);
    expect(lanes.isSlow('e2')).toBe(true);
    lanes.observe('e3', 500, false);
    expect(lanes.isSlow('e3')).toBe(false);
  });
});
