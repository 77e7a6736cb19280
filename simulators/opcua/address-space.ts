/**
 * The plant's OPC UA address space: Objects/Plant/<Chillers|CoolingTowers|Transformers|UPS>/<device
 * id>/<point>, plus Objects/Plant/Bench for load tests. Node ids are strings in the simulator's own
 * namespace ("s=<deviceId>.<point>"), so they stay the same across restarts.
 *
 * Values are pushed (not read through getters), so exception-based monitored items see every
 * change the moment the plant steps.
 */
import type { AddressSpace, Namespace, UAObject, UAVariable } from 'node-opcua-address-space';
import { DataValue } from 'node-opcua-data-value';
import { StatusCodes, type StatusCode } from 'node-opcua-status-code';
import { DataType, Variant } from 'node-opcua-variant';
import type { DeviceKind, PointValue } from '../plant/plant.js';
import { FOLDER_OF_KIND, type OpcUaScalarType, type VariableSpec } from './point-model.js';
import { engineeringUnitsOf } from './units.js';

export interface DeviceModel {
  id: string;
  kind: DeviceKind;
  variables: VariableSpec[];
}

/** Where the published values come from, read at every `publish`. */
export interface PlantValueSource {
  timeMs(): number;
  values(deviceId: string): Record<string, PointValue>;
  /** Combined status of a point: device offline, or the status a test set on it. */
  statusOf(deviceId: string, point: string): StatusCode;
}

export interface PlantNodes {
  /** Pushes the current values of one device's points (default: every device and the bench variables). */
  publish(deviceId?: string): void;
}

export const PLANT_FOLDER = 'Plant';
export const BENCH_FOLDER = 'Bench';

export function stringNodeId(deviceId: string, point: string): string {
  return `${deviceId}.${point}`;
}

export function benchPoint(index: number): string {
  return `value_${index}`;
}

/** The value every bench variable holds at a simulated time: different at every tick, same for the same time. */
export function benchValue(index: number, timeMs: number): number {
  return Math.sin(timeMs / 10_000 + index) * 100;
}

const DATA_TYPES: Readonly<Record<OpcUaScalarType, DataType>> = {
  Double: DataType.Double,
  Boolean: DataType.Boolean,
  Int32: DataType.Int32,
  UInt32: DataType.UInt32,
  String: DataType.String,
};

// setValueFromSource stamps the server timestamp with the source timestamp; a plant value has a
// source time (simulated) distinct from the time the server took it (now). The variable's own
// setter for a whole DataValue is internal in node-opcua's types, hence this narrow view.
interface DataValueSink {
  _internal_set_dataValue(dataValue: DataValue): void;
}

interface PublishedVariable {
  point: string;
  dataType: DataType;
  node: UAVariable;
}

export function buildPlantAddressSpace(
  addressSpace: AddressSpace,
  namespace: Namespace,
  devices: readonly DeviceModel[],
  benchCount: number,
  source: PlantValueSource,
): PlantNodes {
  const plantFolder = namespace.addFolder(addressSpace.rootFolder.objects, {
    browseName: PLANT_FOLDER,
    nodeId: `s=${PLANT_FOLDER}`,
    description: 'Data-centre power and cooling plant (allbit simulator)',
  });
  const kindFolders = new Map<DeviceKind, UAObject>();
  const folderOf = (kind: DeviceKind): UAObject => {
    let folder = kindFolders.get(kind);
    if (!folder) {
      const name = FOLDER_OF_KIND[kind];
      folder = namespace.addFolder(plantFolder, { browseName: name, nodeId: `s=${PLANT_FOLDER}.${name}` });
      kindFolders.set(kind, folder);
    }
    return folder;
  };

  const published = new Map<string, PublishedVariable[]>();
  for (const device of devices) {
    const object = namespace.addObject({
      organizedBy: folderOf(device.kind),
      browseName: device.id,
      nodeId: `s=${device.id}`,
      description: `${device.kind} ${device.id}`,
    });
    const variables: PublishedVariable[] = [];
    for (const spec of device.variables) {
      const common = {
        componentOf: object,
        browseName: spec.point,
        nodeId: `s=${stringNodeId(device.id, spec.point)}`,
        description: spec.description,
        accessLevel: 'CurrentRead',
        userAccessLevel: 'CurrentRead',
        minimumSamplingInterval: 0,
      } as const;
      const node = spec.analog
        ? namespace.addAnalogDataItem({
            ...common,
            dataType: spec.dataType,
            engineeringUnitsRange: spec.analog.range,
            engineeringUnits: engineeringUnitsOf(spec.analog.unit, namespace.namespaceUri),
          })
        : namespace.addVariable({ ...common, dataType: spec.dataType });
      variables.push({ point: spec.point, dataType: DATA_TYPES[spec.dataType], node });
    }
    published.set(device.id, variables);
  }

  const bench: UAVariable[] = [];
  if (benchCount > 0) {
    const benchFolder = namespace.addFolder(plantFolder, {
      browseName: BENCH_FOLDER,
      nodeId: `s=${PLANT_FOLDER}.${BENCH_FOLDER}`,
      description: 'Synthetic variables for load tests: each changes at every plant tick',
    });
    for (let i = 0; i < benchCount; i++) {
      bench.push(
        namespace.addVariable({
          componentOf: benchFolder,
          browseName: benchPoint(i),
          nodeId: `s=${stringNodeId(BENCH_FOLDER, benchPoint(i))}`,
          dataType: 'Double',
          accessLevel: 'CurrentRead',
          userAccessLevel: 'CurrentRead',
          minimumSamplingInterval: 0,
        }),
      );
    }
  }

  const set = (node: UAVariable, value: Variant, statusCode: StatusCode, sourceTimestamp: Date, serverTimestamp: Date): void => {
    (node as unknown as DataValueSink)._internal_set_dataValue(new DataValue({ value, statusCode, sourceTimestamp, serverTimestamp }));
  };

  const publishDevice = (deviceId: string, sourceTimestamp: Date, serverTimestamp: Date): void => {
    const values = source.values(deviceId);
    for (const v of published.get(deviceId) ?? []) {
      const statusCode = source.statusOf(deviceId, v.point);
      // OPC 10000-4 §7.7.1: with a Bad status the value is to be ignored, and the server sets it to null
      const variant = statusCode.isBad() ? new Variant({ dataType: DataType.Null }) : new Variant({ dataType: v.dataType, value: values[v.point] });
      set(v.node, variant, statusCode, sourceTimestamp, serverTimestamp);
    }
  };

  const publish = (deviceId?: string): void => {
    const sourceTimestamp = new Date(source.timeMs());
    const serverTimestamp = new Date();
    if (deviceId !== undefined) return publishDevice(deviceId, sourceTimestamp, serverTimestamp);
    for (const id of published.keys()) publishDevice(id, sourceTimestamp, serverTimestamp);
    const timeMs = source.timeMs();
    for (let i = 0; i < bench.length; i++) {
      set(bench[i], new Variant({ dataType: DataType.Double, value: benchValue(i, timeMs) }), StatusCodes.Good, sourceTimestamp, serverTimestamp);
    }
  };

  publish();
  return { publish };
}
