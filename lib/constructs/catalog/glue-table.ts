import type * as glue from 'aws-cdk-lib/aws-glue';
import type { LakeTable } from '../../contracts/lake-tables.js';

const FORMATS: Record<LakeTable['format'], Omit<glue.CfnTable.StorageDescriptorProperty, 'columns' | 'location'>> = {
  parquet: {
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  },
  json: {
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    serdeInfo: {
      serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
      // A malformed line reads as NULLs instead of failing the whole query (the pipeline validates upstream).
      parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'false' },
    },
  },
  csv: {
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
    serdeInfo: {
      serializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
      parameters: { separatorChar: ',', quoteChar: '"', escapeChar: '\\' },
    },
  },
};

/** Athena partition-projection table parameters of a lake table ({} when it has no projection). */
export function projectionParameters(table: LakeTable, location: string): Record<string, string> {
  if (!table.projection) return {};
  const params: Record<string, string> = { 'projection.enabled': 'true' };
  for (const key of table.partitionKeys) {
    const p = table.projection[key.name];
    if (!p) throw new Error(`lake table ${table.name}: partition key ${key.name} has no projection`);
    params[`projection.${key.name}.type`] = p.type;
    if (p.type === 'date') {
      params[`projection.${key.name}.format`] = p.format;
      params[`projection.${key.name}.range`] = p.range.join(',');
      params[`projection.${key.name}.interval`] = '1';
      params[`projection.${key.name}.interval.unit`] = 'DAYS';
    } else {
      params[`projection.${key.name}.values`] = p.values.join(',');
    }
  }
  params['storage.location.template'] =
    `${location}${table.partitionKeys.map((k) => `${k.name}=\${${k.name}}`).join('/')}/`;
  return params;
}

/** The Glue TableInput of a lake table at `location` (s3://bucket/prefix/). */
export function glueTableInput(table: LakeTable, location: string): glue.CfnTable.TableInputProperty {
  return {
    name: table.name,
    description: table.description,
    tableType: 'EXTERNAL_TABLE',
    parameters: {
      classification: table.format,
      EXTERNAL: 'TRUE',
      ...(table.format === 'parquet' ? { 'parquet.compression': 'SNAPPY' } : {}),
      // CSV lake tables are written with a header line (the local DuckDB views read them with header = true).
      ...(table.format === 'csv' ? { 'skip.header.line.count': '1' } : {}),
      ...projectionParameters(table, location),
    },
    partitionKeys: table.partitionKeys.map((k) => ({ name: k.name, type: k.type, comment: k.comment })),
    storageDescriptor: {
      ...FORMATS[table.format],
      location,
      columns: table.columns.map((c) => ({ name: c.name, type: c.type, comment: c.comment?.slice(0, 255) })),
    },
  };
}
