import * as protobuf from 'protobufjs';
import * as descriptor from 'protobufjs/ext/descriptor';
import { isAbsolute, join } from 'node:path';

/** A .proto file served by reflection: `name` as importers spell it, `path` where it is on disk. */
export interface ProtoFile {
  /** e.g. `shop/orders/v1/orders.proto`; imports in this file are resolved relative to its include root. */
  name: string;
  path: string;
}

/** The parts of protobufjs' descriptor messages rewritten here (they are protobufjs Message objects). */
interface FieldDesc {
  name: string;
  typeName?: string;
}
interface MessageDesc {
  name: string;
  field: FieldDesc[];
  nestedType: MessageDesc[];
}
interface MethodDesc {
  name: string;
  inputType: string;
  outputType: string;
}
interface ServiceDesc {
  method: MethodDesc[];
}
/** protobufjs/ext/descriptor adds toDescriptor to Type, Enum and Service when loaded; its typings do not say. */
function describe<T>(obj: protobuf.ReflectionObject, edition?: string): T {
  return (obj as unknown as { toDescriptor(edition?: string): T }).toDescriptor(edition);
}

/**
 * The FileDescriptorProtos of `files` and of everything they import, as protoc would name and link
 * them: one descriptor per .proto file under its import name (`shop/orders/v1/orders.proto`,
 * `google/protobuf/timestamp.proto`), each listing the files it depends on, type references fully
 * qualified. Tools that link descriptors from server reflection (buf curl, grpcurl, Postman, Kreya)
 * need exactly that; `@grpc/proto-loader`'s descriptors are merged per package under made-up names
 * (`shop_orders_v1.proto`) and declare no dependencies, so those tools cannot build a schema from them.
 *
 * Built from the .proto sources at start with protobufjs (no generated artifact to keep in step).
 * Not carried: comments (SourceCodeInfo) and file-level options (go_package, ...): clients do not need them.
 */
export function fileDescriptorProtos(files: ProtoFile[]): Uint8Array[] {
  const root = new protobuf.Root();
  const nameOf = new Map<string, string>();
  for (const f of files) nameOf.set(f.path, f.name);
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target) || !origin) return target;
    const originName = nameOf.get(origin);
    if (!originName) throw new Error(`proto import "${target}" from an unnamed file ${origin}`);
    const abs = join(origin.slice(0, origin.length - originName.length), target);
    nameOf.set(abs, target);
    return abs;
  };
  root.loadSync(
    files.map((f) => f.path),
    { keepCase: true },
  );
  root.resolveAll();

  const wellKnown = wellKnownFiles();
  const fileOf = (obj: protobuf.ReflectionObject): string => {
    const name = obj.filename ? nameOf.get(obj.filename) : wellKnown.get(obj.fullName);
    if (!name) throw new Error(`no file known for ${obj.fullName}`);
    return name;
  };

  const byFile = new Map<string, { pkg: string; edition: string; top: protobuf.ReflectionObject[] }>();
  const collect = (ns: protobuf.NamespaceBase) => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type || obj instanceof protobuf.Enum || obj instanceof protobuf.Service) {
        const name = fileOf(obj);
        const entry = byFile.get(name) ?? { pkg: ns.fullName.slice(1), edition: editionOf(obj), top: [] };
        if (entry.pkg !== ns.fullName.slice(1)) throw new Error(`${name} declares two packages`);
        entry.top.push(obj);
        byFile.set(name, entry);
      } else if (obj instanceof protobuf.Field) {
        throw new Error(`top-level extension ${obj.fullName} is not supported`);
      } else if (obj instanceof protobuf.Namespace) {
        collect(obj);
      }
    }
  };
  collect(root);

  const out: Uint8Array[] = [];
  for (const [name, { pkg, edition, top }] of byFile) {
    const deps = new Set<string>();
    const ref = (t: protobuf.ReflectionObject) => {
      const file = fileOf(topLevelOf(t));
      if (file !== name) deps.add(file);
      return t.fullName; // fully qualified, with the leading dot
    };
    if (edition !== 'proto3' && edition !== 'proto2')
      throw new Error(`${name}: edition ${edition} is not supported`);
    const messageType: MessageDesc[] = [];
    const enumType: unknown[] = [];
    const service: ServiceDesc[] = [];
    for (const obj of top) {
      if (obj instanceof protobuf.Type) {
        const d = describe<MessageDesc>(obj, edition);
        qualify(obj, d, ref);
        messageType.push(d);
      } else if (obj instanceof protobuf.Enum) {
        enumType.push(describe(obj));
      } else if (obj instanceof protobuf.Service) {
        const d = describe<ServiceDesc>(obj);
        for (const m of d.method) {
          const method = obj.methods[m.name];
          m.inputType = ref(method.resolvedRequestType!);
          m.outputType = ref(method.resolvedResponseType!);
        }
        service.push(d);
      }
    }
    const file = descriptor.FileDescriptorProto.fromObject({
      name,
      package: pkg,
      dependency: [...deps].sort(),
      messageType,
      enumType,
      service,
      syntax: edition,
    });
    out.push(descriptor.FileDescriptorProto.encode(file).finish());
  }
  return out;
}

/**
 * Field type names as fully qualified references (protobufjs writes them relative to the parent),
 * and map entries named as protoc names them (`labels` -> `LabelsEntry`), which linkers check.
 */
function qualify(type: protobuf.Type, d: MessageDesc, ref: (t: protobuf.ReflectionObject) => string): void {
  const entries = new Map<string, protobuf.Field>(); // protobufjs' entry name -> its map field
  for (const f of d.field) {
    if (!f.typeName) continue;
    const field = type.fields[f.name];
    if (field?.map) {
      entries.set(f.typeName, field);
      f.typeName = `${type.fullName}.${mapEntryName(field.name)}`;
    } else if (field?.resolvedType) f.typeName = ref(field.resolvedType);
    else throw new Error(`${type.fullName}.${f.name}: unresolved type ${f.typeName}`);
  }
  for (const nested of d.nestedType) {
    const mapField = entries.get(nested.name);
    if (mapField) {
      nested.name = mapEntryName(mapField.name);
      const value = nested.field.find((x) => x.name === 'value');
      if (value?.typeName && mapField.resolvedType) value.typeName = ref(mapField.resolvedType);
      continue;
    }
    const inner = type.nested?.[nested.name];
    if (inner instanceof protobuf.Type) qualify(inner, nested, ref);
  }
}

/** protoc's name for a map field's entry message: `page_labels` -> `PageLabelsEntry`. */
function mapEntryName(field: string): string {
  return field.replace(/(?:^|_)(.)/g, (_m, c: string) => c.toUpperCase()) + 'Entry';
}

function topLevelOf(obj: protobuf.ReflectionObject): protobuf.ReflectionObject {
  let o = obj;
  while (o.parent && !(o.parent instanceof protobuf.Root) && !isPlainNamespace(o.parent)) o = o.parent;
  return o;
}

function isPlainNamespace(ns: protobuf.ReflectionObject): boolean {
  return (
    ns instanceof protobuf.Namespace && !(ns instanceof protobuf.Type) && !(ns instanceof protobuf.Service)
  );
}

function editionOf(obj: protobuf.ReflectionObject): string {
  return (obj as unknown as { _edition?: string })._edition ?? 'proto3';
}

/** Full name (".google.protobuf.Timestamp") -> file name, for the well-known types protobufjs bundles. */
function wellKnownFiles(): Map<string, string> {
  const map = new Map<string, string>();
  const common = protobuf.common as unknown as Record<string, protobuf.INamespace>;
  for (const [file, json] of Object.entries(common)) {
    if (typeof json !== 'object' || !file.endsWith('.proto')) continue;
    const walk = (ns: protobuf.INamespace, prefix: string) => {
      for (const [n, child] of Object.entries(ns.nested ?? {})) {
        const full = `${prefix}.${n}`;
        if ('fields' in child || 'values' in child || 'methods' in child) map.set(full, file);
        else walk(child as protobuf.INamespace, full);
      }
    };
    walk(json, '');
  }
  return map;
}
