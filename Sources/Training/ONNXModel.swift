import NeuralNet

/// An `InferenceGraph` written as an ONNX model (onnx/onnx.proto: `ModelProto`, IR version
/// 8, the default operator set at version 17), float32 inputs and outputs whose first axis
/// is the batch ("batch": any size).
package struct ONNXModel {
    package var graph: InferenceGraph
    /// The inputs' names and shapes after the batch axis (observations, then a recurrent
    /// policy's state).
    package var inputs: [(name: String, shape: [Int])]
    /// The outputs' names and shapes after the batch axis (the scores, then a recurrent
    /// policy's next state).
    package var outputs: [(name: String, shape: [Int])]
    /// The graph's name (shown by viewers such as Netron).
    package var name: String
    /// Key–value pairs stored as the model's `metadata_props`.
    package var metadata: [(key: String, value: String)]
    /// The `producer_version` field.
    package var producerVersion: String

    package static let irVersion = 8
    package static let opsetVersion = 17

    // Field numbers of onnx.proto, named where they are used.
    private enum Model { static let irVersion = 1, producerName = 2, producerVersion = 3, graph = 7, opsetImport = 8, metadata = 14 }
    private enum Graph { static let node = 1, name = 2, initializer = 5, input = 11, output = 12 }
    private enum Node { static let input = 1, output = 2, name = 3, opType = 4, attribute = 5 }
    private enum Attribute {
        static let name = 1, float = 2, int = 3, ints = 8, type = 20
        static let typeFloat = 1, typeInt = 2, typeInts = 7
    }
    private enum TensorField { static let dims = 1, dataType = 2, name = 8, rawData = 9, float = 1, int64 = 7 }

    /// The model's bytes.
    package func serialized() -> [UInt8] {
        var model = ProtobufMessage()
        model.int(Model.irVersion, Self.irVersion)
        model.string(Model.producerName, "AgentLab")
        model.string(Model.producerVersion, producerVersion)
        model.message(Model.graph, encodedGraph())
        model.message(Model.opsetImport) { $0.int(2, Self.opsetVersion) }  // domain "" (ai.onnx), version
        for (key, value) in metadata {
            model.message(Model.metadata) { entry in
                entry.string(1, key)
                entry.string(2, value)
            }
        }
        return model.bytes
    }

    private func encodedGraph() -> ProtobufMessage {
        var message = ProtobufMessage()
        for (index, node) in graph.nodes.enumerated() {
            message.message(Graph.node) { n in
                for input in node.inputs { n.string(Node.input, input) }
                for output in node.outputs { n.string(Node.output, output) }
                n.string(Node.name, "\(node.op)_\(index)")
                n.string(Node.opType, node.op)
                for (name, value) in node.attributes { n.message(Node.attribute, Self.attribute(name, value)) }
            }
        }
        message.string(Graph.name, name)
        for constant in graph.constants {
            message.message(Graph.initializer) { t in
                for dimension in constant.shape { t.int(TensorField.dims, dimension) }
                t.int(TensorField.dataType, TensorField.float)
                t.string(TensorField.name, constant.name)
                var raw = [UInt8]()
                raw.reserveCapacity(constant.values.count * 4)
                for v in constant.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
                t.bytes(TensorField.rawData, raw)
            }
        }
        for constant in graph.integerConstants {
            message.message(Graph.initializer) { t in
                t.int(TensorField.dims, constant.values.count)
                t.int(TensorField.dataType, TensorField.int64)
                t.string(TensorField.name, constant.name)
                var raw = [UInt8]()
                for v in constant.values { withUnsafeBytes(of: Int64(v).littleEndian) { raw.append(contentsOf: $0) } }
                t.bytes(TensorField.rawData, raw)
            }
        }
        for input in inputs { message.message(Graph.input, Self.valueInfo(input.name, shape: input.shape)) }
        for output in outputs { message.message(Graph.output, Self.valueInfo(output.name, shape: output.shape)) }
        return message
    }

    private static func attribute(_ name: String, _ value: InferenceGraph.Attribute) -> ProtobufMessage {
        var a = ProtobufMessage()
        a.string(Attribute.name, name)
        switch value {
        case .float(let f):
            a.float(Attribute.float, f)
            a.int(Attribute.type, Attribute.typeFloat)
        case .int(let i):
            a.int(Attribute.int, i)
            a.int(Attribute.type, Attribute.typeInt)
        case .ints(let values):
            for v in values { a.int(Attribute.ints, v) }
            a.int(Attribute.type, Attribute.typeInts)
        }
        return a
    }

    /// A `ValueInfoProto` of a float tensor shaped ["batch"] + `shape`.
    private static func valueInfo(_ name: String, shape: [Int]) -> ProtobufMessage {
        var info = ProtobufMessage()
        info.string(1, name)
        info.message(2) { type in                      // TypeProto
            type.message(1) { tensor in                // TypeProto.Tensor
                tensor.int(1, TensorField.float)       // elem_type
                tensor.message(2) { dims in            // TensorShapeProto
                    dims.message(1) { $0.string(2, "batch") }  // dim_param
                    for d in shape { dims.message(1) { $0.int(1, d) } }  // dim_value
                }
            }
        }
        return info
    }
}
